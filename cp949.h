// cp949.h - the Korean Windows console's code page (949) through Win32's own tables: the CP949
// conversion the terminal layer asks for (term::Codec), for the server to hand the session layer.
#pragma once

#include "iocp.h"
#include "terminal.h"

#include <string>
#include <string_view>

// The Korean Windows console's code page through Win32's own tables (code page 949): what the
// terminal layer needs for a CP949 connection. What a side cannot show becomes '?'.
class Cp949Codec final : public term::Codec {
public:
    std::string cp949_to_utf8(std::string_view cp949) const override {
        const std::wstring wide = wide_from(949, cp949);
        return utf8_from_wide(wide.data(), static_cast<int>(wide.size()));
    }
    std::string utf8_to_cp949(std::string_view utf8) const override {
        const std::wstring wide = wide_from(CP_UTF8, utf8);
        if (wide.empty())
            return {};
        const int length = static_cast<int>(wide.size());
        // No best fit: without it Windows turns an ü into a u, which says something else.
        const int bytes = WideCharToMultiByte(949, WC_NO_BEST_FIT_CHARS, wide.data(), length, nullptr, 0, "?", nullptr);
        std::string result(static_cast<std::size_t>(bytes > 0 ? bytes : 0), '\0');
        if (bytes > 0)
            WideCharToMultiByte(949, WC_NO_BEST_FIT_CHARS, wide.data(), length, &result[0], bytes, "?", nullptr);
        return result;
    }

private:
    static std::wstring wide_from(UINT code_page, std::string_view text) {
        const int length = static_cast<int>(text.size());
        const int chars = length > 0 ? MultiByteToWideChar(code_page, 0, text.data(), length, nullptr, 0) : 0;
        std::wstring wide(static_cast<std::size_t>(chars > 0 ? chars : 0), L'\0');
        if (chars > 0)
            MultiByteToWideChar(code_page, 0, text.data(), length, &wide[0], chars);
        return wide;
    }
};
