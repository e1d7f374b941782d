@echo off
rem build.bat - builds server.exe and client.exe with the Microsoft C++ compiler (cl).
rem Run it from an "x64 Native Tools Command Prompt for VS", where cl.exe is on PATH.
rem Stops at the first failure with a non-zero exit code.
setlocal
cd /d "%~dp0"

where cl >nul 2>nul
if errorlevel 1 goto no_cl

if not exist obj mkdir obj
set CLFLAGS=/nologo /W4 /WX /O2 /EHsc /std:c++17 /permissive- /Foobj\

cl %CLFLAGS% server.cpp /Fe:server.exe /link ws2_32.lib mswsock.lib psapi.lib
if errorlevel 1 goto server_failed
cl %CLFLAGS% client.cpp bots.cpp /Fe:client.exe /link ws2_32.lib mswsock.lib
if errorlevel 1 goto client_failed

echo build.bat: built server.exe and client.exe
exit /b 0

:no_cl
echo build.bat: cl.exe is not on PATH.
echo Open the "x64 Native Tools Command Prompt for VS" from the Start menu, then run build.bat there.
exit /b 1

:server_failed
echo build.bat: server.exe failed to build
exit /b 1

:client_failed
echo build.bat: client.exe failed to build
exit /b 1
