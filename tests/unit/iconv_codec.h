// iconv_codec.h - CP949 <-> UTF-8 for the native unit tests, through glibc's iconv (the server
// uses Win32's code page 949 tables).
#pragma once

#include "terminal.h"

#include <iconv.h>

#include <cstddef>
#include <string>
#include <string_view>

// CP949 <-> UTF-8 through iconv, '?' for what does not convert.
struct IconvCodec final : term::Codec {
    static std::string convert(const char* to, const char* from, std::string_view in) {
        iconv_t cd = iconv_open(to, from);
        std::string out(in.size() * 4 + 4, '\0');
        char* src = const_cast<char*>(in.data());
        std::size_t src_left = in.size();
        char* dst = &out[0];
        std::size_t dst_left = out.size();
        while (src_left > 0) {
            if (iconv(cd, &src, &src_left, &dst, &dst_left) == static_cast<std::size_t>(-1)) {
                *dst++ = '?';  // one for the whole character, as Win32's default character
                --dst_left;
                do {
                    ++src;
                    --src_left;
                } while (src_left > 0 && std::string_view(from) == "UTF-8" && (*src & 0xC0) == 0x80);
            }
        }
        iconv_close(cd);
        out.resize(out.size() - dst_left);
        return out;
    }
    std::string cp949_to_utf8(std::string_view cp949) const override { return convert("UTF-8", "CP949", cp949); }
    std::string utf8_to_cp949(std::string_view utf8) const override { return convert("CP949", "UTF-8", utf8); }
};
