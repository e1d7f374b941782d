@echo off
rem build.bat [strict] - builds server.exe and client.exe with the Microsoft C++ compiler (cl).
rem Run it from an "x64 Native Tools Command Prompt for VS", where cl.exe is on PATH.
rem Warnings (/W4) are shown and do not stop the build: a newer Visual Studio may add some.
rem "build.bat strict" treats them as errors (/WX), as the project's own checks do.
rem Stops at the first failure with a non-zero exit code.
setlocal EnableDelayedExpansion
rem pushd, not cd /d: it also works from a \\server\share path (it maps a drive letter).
pushd "%~dp0"

rem Started by a double-click, Explorer runs cmd /c ""C:\path\build.bat" ": the window closes as
rem soon as the batch ends, so it waits for a key first. Typed at a prompt, the command line of
rem cmd does not name this file, and there is no pause.
set PAUSE_AT_END=
set "COMMAND_LINE=!CMDCMDLINE!"
if defined COMMAND_LINE set "WITHOUT_ME=!COMMAND_LINE:%~f0=!"
if defined COMMAND_LINE if not "!WITHOUT_ME!"=="!COMMAND_LINE!" set PAUSE_AT_END=1

set WARNINGS=/W4
if /i "%~1"=="strict" set WARNINGS=/W4 /WX

where cl >nul 2>nul
if errorlevel 1 goto no_cl

if not exist obj mkdir obj
set CLFLAGS=/nologo %WARNINGS% /O2 /EHsc /std:c++17 /permissive- /Foobj\

cl %CLFLAGS% server.cpp /Fe:server.exe /link ws2_32.lib mswsock.lib psapi.lib
if errorlevel 1 goto server_failed
cl %CLFLAGS% client.cpp bots.cpp /Fe:client.exe /link ws2_32.lib mswsock.lib
if errorlevel 1 goto client_failed

echo build.bat: built server.exe and client.exe
set RESULT=0
goto done

:no_cl
echo build.bat: cl.exe is not on PATH.
echo Open the "x64 Native Tools Command Prompt for VS" from the Start menu, then run build.bat there.
set RESULT=1
goto done

:server_failed
echo build.bat: server.exe failed to build
set RESULT=1
goto done

:client_failed
echo build.bat: client.exe failed to build
set RESULT=1
goto done

:done
popd
if defined PAUSE_AT_END pause
exit /b %RESULT%
