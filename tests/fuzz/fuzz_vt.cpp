// libFuzzer target over client.exe's terminal (vt.h, display.h, vterm.h) and its keys (keys.h):
// the parser gives the same operations whatever the pieces its bytes come in; the display keeps its
// invariants (the cursor on the screen, a wide character's two halves together, nothing a console
// would take for a control); what it reports changed, redone on a copy as the painter redoes it on
// the console (the scrolls, then the changed rows), gives the display again; the terminal answers
// only well-formed telnet; and the keys give well-formed UTF-8. A broken invariant calls
// std::abort(), which libFuzzer reports with the input.
//
// Input layout: byte 0 is a header h. The last (h & 15) bytes are chunk sizes (each 1 + byte, used in
// turn; none means one byte at a time); the bytes between are the stream. (h >> 4) picks the
// display's size, and whether it is resized between chunks.
#include "display.h"
#include "keys.h"
#include "require.h"
#include "utf8.h"
#include "vt.h"
#include "vterm.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Recorded {
    int kind;
    char32_t code_point;
    int first, second;
    bool operator==(const Recorded& o) const {
        return kind == o.kind && code_point == o.code_point && first == o.first && second == o.second;
    }
};

std::vector<Recorded> parse(std::string_view stream, const std::vector<std::size_t>& chunks) {
    vt::Parser parser;
    std::vector<Recorded> ops;
    const auto keep = [&ops](const vt::Op& op) {
        ops.push_back(Recorded{static_cast<int>(op.kind), op.code_point, op.first, op.second});
    };
    for (std::size_t at = 0, turn = 0; at < stream.size();) {
        const std::size_t size = chunks.empty() ? 1 : std::min(chunks[turn++ % chunks.size()], stream.size() - at);
        parser.feed(stream.data() + at, size, keep);
        at += size;
    }
    return ops;
}

void check_display(const vt::Display& display) {
    require(display.cursor_row() >= 0 && display.cursor_row() < display.height());
    require(display.cursor_column() >= 0 && display.cursor_column() < display.width());
    for (int r = 0; r < display.height(); ++r) {
        const char32_t* cells = display.row(r);
        for (int c = 0; c < display.width(); ++c) {
            const char32_t cell = cells[c];
            if (cell == vt::kWideTail) {
                require(c > 0 && cells[c - 1] != vt::kWideTail && utf8::columns_of(static_cast<std::uint32_t>(cells[c - 1])) == 2);
                continue;
            }
            require(cell >= 0x20 && !(cell >= 0x7F && cell < 0xA0) && cell <= 0x10FFFF);
            require(utf8::columns_of(static_cast<std::uint32_t>(cell)) != 0);
            if (utf8::columns_of(static_cast<std::uint32_t>(cell)) == 2)
                require(c + 1 < display.width() && cells[c + 1] == vt::kWideTail);
        }
    }
}

// The console as the painter keeps it: the display's scrolls redone, then its changed rows copied.
struct Mirror {
    int width = 0, height = 0;
    std::vector<char32_t> cells;
    void copy_all(const vt::Display& display) {
        width = display.width();
        height = display.height();
        cells.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), U' ');
        for (int r = 0; r < height; ++r)
            copy_row(display, r);
    }
    void copy_row(const vt::Display& display, int r) {
        std::copy(display.row(r), display.row(r) + width, cells.begin() + static_cast<std::ptrdiff_t>(r) * width);
    }
    void scroll(const vt::Scroll& s) {
        require(s.top >= 0 && s.top < s.bottom && s.bottom < height && s.lines != 0);
        require(s.lines < s.bottom - s.top + 1 && -s.lines < s.bottom - s.top + 1);
        std::vector<char32_t> moved(cells);
        for (int r = s.top; r <= s.bottom; ++r) {
            const int from = r + s.lines;
            for (int c = 0; c < width; ++c)
                moved[static_cast<std::size_t>(r * width + c)] =
                    from >= s.top && from <= s.bottom ? cells[static_cast<std::size_t>(from * width + c)] : U'#';
        }
        cells.swap(moved);  // '#': uncovered rows, which the display must mark changed
    }
    void take(vt::Display& display) {
        for (const vt::Scroll& s : display.scrolls())
            scroll(s);
        for (int r = 0; r < height; ++r)
            if (display.row_changed(r))
                copy_row(display, r);
        display.clear_damage();
        for (int r = 0; r < height; ++r)
            require(std::equal(display.row(r), display.row(r) + width, cells.begin() + static_cast<std::ptrdiff_t>(r) * width));
    }
};

// The terminal's answers: telnet commands only (WILL/WONT/DO/DONT and an option, a NAWS
// subnegotiation), never data.
void check_answers(std::string_view out) {
    for (std::size_t i = 0; i < out.size();) {
        require(static_cast<unsigned char>(out[i]) == 255 && i + 2 < out.size());
        const auto verb = static_cast<unsigned char>(out[i + 1]);
        if (verb >= 251) {
            i += 3;
            continue;
        }
        require(verb == 250 && static_cast<unsigned char>(out[i + 2]) == 31);
        const std::size_t end = out.find("\xff\xf0", i + 3);
        require(end != std::string_view::npos);
        i = end + 2;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const unsigned header = data[0];
    std::size_t split_bytes = std::min<std::size_t>(header & 15, size - 1);
    const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1 - split_bytes);
    std::vector<std::size_t> chunks;
    for (std::size_t i = size - split_bytes; i < size; ++i)
        chunks.push_back(1 + std::size_t{data[i]});

    // The same operations whole, in the chosen pieces, and a byte at a time.
    const std::vector<Recorded> whole = parse(stream, {stream.size() + 1});
    require(parse(stream, chunks) == whole);
    if (!chunks.empty())
        require(parse(stream, {}) == whole);

    // The display, piece by piece, its damage redone on a mirror; resized between pieces when asked.
    const int width = 1 + static_cast<int>((header >> 4) & 7) * 5, height = 1 + static_cast<int>(header >> 6) * 4;
    const bool resizing = (header & 0x80) != 0;
    vt::Display display(width, height);
    vt::Parser parser;
    Mirror mirror;
    mirror.copy_all(display);
    for (std::size_t at = 0, turn = 0; at < stream.size();) {
        const std::size_t piece = chunks.empty() ? 1 : std::min(chunks[turn++ % chunks.size()], stream.size() - at);
        parser.feed(stream.data() + at, piece, [&display](const vt::Op& op) { display.apply(op); });
        at += piece;
        check_display(display);
        mirror.take(display);
        if (resizing && at < stream.size()) {
            display.resize(1 + static_cast<unsigned char>(stream[at]) % 40, 1 + static_cast<unsigned char>(stream[at]) / 40);
            check_display(display);
            mirror.copy_all(display);
            display.clear_damage();
        }
    }

    // The terminal: telnet over it; the same screen and answers whole or in pieces.
    vt::Terminal a(width, height), b(width, height);
    std::string out_a, out_b;
    a.start(out_a);
    b.start(out_b);
    a.receive(stream.data(), stream.size(), out_a);
    for (std::size_t at = 0, turn = 0; at < stream.size();) {
        const std::size_t piece = chunks.empty() ? 1 : std::min(chunks[turn++ % chunks.size()], stream.size() - at);
        b.receive(stream.data() + at, piece, out_b);
        at += piece;
    }
    require(out_a == out_b);
    check_answers(out_a);
    check_display(a.display());
    for (int r = 0; r < height; ++r)
        require(std::equal(a.display().row(r), a.display().row(r) + width, b.display().row(r)));

    // The keys: any events give well-formed UTF-8.
    keys::Keyboard keyboard;
    std::string typed;
    for (std::size_t i = 0; i + 4 <= stream.size(); i += 4) {
        const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(stream[i + k]); };
        const keys::KeyEvent key{(byte(0) & 1) != 0, static_cast<std::uint16_t>(byte(0) >> 5), byte(1),
                                 static_cast<char16_t>(byte(2) | byte(3) << 8), static_cast<std::uint32_t>((byte(0) >> 1) & 15)};
        keyboard.key(key, typed);
    }
    require(utf8::is_valid(typed));
    return 0;
}
