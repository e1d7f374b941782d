// vterm.h - client.exe's terminal, the side of a connection a telnet window is: the server's bytes
// through the telnet protocol (telnet.h, the same RFC 1143 code the server negotiates with, under
// kClientPolicy) and the VT parser (vt.h) onto the display (display.h); what is typed, and the
// window's size, back to the server.
//
// At the start it offers WILL NAWS, which tells the server it is a terminal: the server offers
// WILL ECHO and WILL SGA, which it agrees to, and asks DO NAWS, which it answers with the window's
// size. From then on the server echoes and edits what is typed and draws everything; this side
// shows it. A new size goes out as a NAWS whenever the window changes.
//
// Includes no Windows header: unit-tested and fuzzed natively (client.exe's console side only
// reads keys, measures the window and paints the display).
#pragma once

#include "display.h"
#include "telnet.h"
#include "vt.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace vt {

class Terminal {
public:
    // A terminal whose window is width x height, its cursor at (row, column) from 0.
    Terminal(int width, int height, int row = 0, int column = 0) : display_(width, height, row, column) {}

    // What to send first: the offer of the window size.
    void start(std::string& out) { telnet_.offer(out); }
    // Bytes from the server: shown on the display; the negotiation's answers go to `out`.
    void receive(const char* data, std::size_t size, std::string& out) {
        Events events{*this, out};
        for (std::size_t i = 0; i < size; ++i)
            telnet_.receive(static_cast<unsigned char>(data[i]), events, out);
    }
    // Typed bytes, as a VT terminal sends them (keys.h): to `out`, with telnet's IAC doubling.
    static void type(std::string_view keys, std::string& out) { telnet::append_text(out, keys); }
    // The window is width x height now: the display follows, and the server is told when the size
    // changed and it has asked for it (a NAWS). Returns true when it changed.
    bool resize(int width, int height, std::string& out);

    Display& display() { return display_; }
    const Display& display() const { return display_; }
    // The server echoes what is typed (it agreed to ECHO): character mode.
    bool server_echoes() const { return telnet_.his(telnet::option::ECHO); }
    bool sends_size() const { return telnet_.ours(telnet::option::NAWS); }

private:
    // What the telnet protocol reports, for this terminal.
    struct Events {
        Terminal& terminal;
        std::string& out;
        bool on_data(unsigned char byte) {
            Display& display = terminal.display_;
            terminal.parser_.feed(byte, [&display](const Op& op) { display.apply(op); });
            return true;
        }
        bool on_command(unsigned char) { return true; }  // GA, NOP, ...: nothing to show
        void on_option(unsigned char opt, bool ours, bool on) {
            if (opt == telnet::option::NAWS && ours && on)
                terminal.send_size(out);
        }
        void on_subnegotiation(unsigned char, std::string_view) {}
    };

    void send_size(std::string& out) const {
        telnet::append_subnegotiation(out, telnet::option::NAWS,
                                      telnet::window_size_bytes(display_.width(), display_.height()));
    }

    telnet::Protocol telnet_{telnet::kClientPolicy};
    Parser parser_;
    Display display_;
};

inline bool Terminal::resize(int width, int height, std::string& out) {
    const int old_width = display_.width(), old_height = display_.height();
    display_.resize(width, height);
    if (display_.width() == old_width && display_.height() == old_height)
        return false;
    if (sends_size())
        send_size(out);
    return true;
}

}  // namespace vt
