// telnet_bytes.h - telnet byte strings for the native unit tests: the server's offers, a terminal's
// answers, and a NAWS subnegotiation with its IAC doubling.
#pragma once

#include <initializer_list>
#include <string>

inline std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values)
        s.push_back(static_cast<char>(v));
    return s;
}

inline const std::string WILL_ECHO = bytes({255, 251, 1}), WILL_SGA = bytes({255, 251, 3}), DO_NAWS = bytes({255, 253, 31});
inline const std::string OFFERS = WILL_ECHO + WILL_SGA + DO_NAWS;
inline const std::string DO_ECHO = bytes({255, 253, 1}), DONT_ECHO = bytes({255, 254, 1}), WONT_ECHO = bytes({255, 252, 1});
inline const std::string DO_SGA = bytes({255, 253, 3}), WILL_NAWS = bytes({255, 251, 31});
inline const std::string DONT_NAWS = bytes({255, 254, 31});
inline const std::string WILL_TTYPE = bytes({255, 251, 24}), DO_TTYPE = bytes({255, 253, 24});
inline const std::string DONT_TTYPE = bytes({255, 254, 24}), WONT_TTYPE = bytes({255, 252, 24});

inline std::string naws(int width, int height) {
    std::string s = bytes({255, 250, 31});
    for (int v : {width >> 8, width & 255, height >> 8, height & 255}) {
        s.push_back(static_cast<char>(v));
        if (v == 255)
            s.push_back(static_cast<char>(v));  // IAC IAC inside a subnegotiation
    }
    return s + bytes({255, 240});
}
