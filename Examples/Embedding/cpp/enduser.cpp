// enduser.cpp - the end user's side of a remote-support session, embedded in a C++17 program (POSIX).
//
// It joins a broker with a 6-digit connection ID, waits for an agent, asks whether the agent may connect
// (or accepts at once with --yes), prints the security code (SAS) both sides must see, shares frames it
// draws itself (a 320x200 BGRX gradient with a bar that moves every 100 ms: no real screen), prints the
// agent's pointer and key events instead of injecting them, and ends when the agent ends the session,
// after --seconds N, or on Ctrl-C / SIGTERM (then it ends the session itself).
//
//   g++ -std=c++17 -Wall -Wextra -Werror -pedantic -I../../../Include enduser.cpp
//       -L../../../.build/debug -lremotesupport -Wl,-rpath,$PWD/../../../.build/debug -o enduser
//   (one line; or `make` in Examples/Embedding)
//   ./enduser 127.0.0.1 8081 123456 [--yes] [--seconds N] [--name NAME]
//
// The C API wrapped the C++ way: each handle is owned by a class (std::unique_ptr with the library's free
// function as deleter, so it is freed on every path, exceptions included), and a failed call throws
// rs::Error carrying the status and the handle's message. The library is sans-IO (rs_conn): this file owns
// the socket, the clock and the loop.
//
// TRANSPORT: this example speaks the protocol over PLAIN TCP, which the broker accepts on loopback only
// (rs-broker --protocol-port). In production wrap the socket in TLS (e.g. OpenSSL: SSL_read/SSL_write
// where Socket calls recv/send, and verify the broker's certificate), or use the broker's WebSocket
// endpoint behind HTTPS (wss://.../ws, one frame per binary message). The session itself is end-to-end
// encrypted either way; TLS protects the join credential and the control frames the broker reads.
//
// Exit status: 0 when the session ended (by the agent, by --seconds or a signal), 1 otherwise (refused,
// connection lost for good, errors), 2 for bad arguments.

#include "remotesupport.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace rs {

// A failed rs_* call: its status (RS_ERR_*) and message.
class Error : public std::runtime_error {
public:
    Error(const std::string &call, int status, const std::string &message)
        : std::runtime_error(call + ": " + rs_status_name(status) + ": " + message), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

// For calls without a handle: the message is in the thread's rs_last_error().
inline int check(const char *call, int status) {
    if (status < 0) throw Error(call, status, rs_last_error());
    return status;
}

// One rs_conn. Move-only; rs_conn_free runs when it goes out of scope.
class Connection {
public:
    Connection(int role, uint64_t now_ms) {
        rs_conn *raw = nullptr;
        check("rs_conn_new", rs_conn_new(role, nullptr, now_ms, &raw));
        conn_.reset(raw);
    }

    rs_conn *get() const noexcept { return conn_.get(); }

    // Throws with the connection's own message (rs_conn_errmsg) when status is an error.
    int check(const char *call, int status) const {
        if (status < 0) throw Error(call, status, rs_conn_errmsg(conn_.get()));
        return status;
    }

    void receive(const uint8_t *data, size_t length, uint64_t now_ms) {
        check("rs_conn_receive", rs_conn_receive(get(), data, length, now_ms));
    }
    // The next event, or false. The pointers in *event are borrowed until the next poll/receive.
    bool poll(rs_event &event) { return check("rs_conn_poll", rs_conn_poll(get(), &event)) == RS_OK; }
    // The bytes to send: borrowed until the next call on the connection.
    std::pair<const uint8_t *, size_t> take_output() {
        const uint8_t *data = nullptr;
        size_t length = 0;
        check("rs_conn_take_output", rs_conn_take_output(get(), &data, &length));
        return {data, length};
    }
    void tick(uint64_t now_ms) { check("rs_conn_tick", rs_conn_tick(get(), now_ms)); }
    std::optional<uint64_t> next_wakeup() {
        uint64_t at = 0;
        if (check("rs_conn_next_wakeup", rs_conn_next_wakeup(get(), &at)) == RS_NO_DEADLINE) return std::nullopt;
        return at;
    }
    void close(int reason, const char *message = nullptr) { check("rs_conn_close", rs_conn_close(get(), reason, message)); }
    bool connection_lost(uint64_t now_ms) {
        int can_resume = 0;
        check("rs_conn_connection_lost", rs_conn_connection_lost(get(), now_ms, &can_resume));
        return can_resume != 0;
    }
    void reconnect(uint64_t now_ms) { check("rs_conn_reconnect", rs_conn_reconnect(get(), now_ms)); }
    void join(int method, const std::string &credential, const std::string &name, const std::string &machine,
              const std::string &os) {
        check("rs_conn_join", rs_conn_join(get(), method, credential.c_str(), name.c_str(), machine.c_str(), os.c_str()));
    }
    void consent(int mode) { check("rs_conn_consent", rs_conn_consent(get(), mode)); }
    bool share_frame(const std::vector<uint8_t> &pixels, uint32_t width, uint32_t height, size_t stride,
                     const rs_pixel_format &format) {
        int sent = 0;
        check("rs_conn_share_frame",
              rs_conn_share_frame(get(), pixels.data(), pixels.size(), width, height, stride, &format, &sent));
        return sent != 0;
    }
    void end_session(int reason, const char *message) {
        check("rs_conn_end_session", rs_conn_end_session(get(), reason, message));
    }

private:
    struct Free {
        void operator()(rs_conn *c) const noexcept { rs_conn_free(c); }
    };
    std::unique_ptr<rs_conn, Free> conn_;
};

} // namespace rs

namespace {

// ---- The frames this program "captures": drawn in plain code -------------------------------------------

constexpr uint32_t kWidth = 320, kHeight = 200, kBar = 16, kStep = 4;

// Frame n: blue grows to the right, green downwards, red 128; a white bar kBar pixels wide starts at
// x = (n * kStep) % kWidth and wraps around. Bytes B, G, R, X (RS_FORMAT_BGRX8888).
void draw_frame(std::vector<uint8_t> &pixels, uint32_t n) {
    pixels.resize(size_t{kWidth} * kHeight * 4);
    const uint32_t bar_x = (n * kStep) % kWidth;
    for (uint32_t y = 0; y < kHeight; y++) {
        for (uint32_t x = 0; x < kWidth; x++) {
            uint8_t *p = &pixels[(size_t{y} * kWidth + x) * 4];
            const bool in_bar = (x + kWidth - bar_x) % kWidth < kBar;
            p[0] = in_bar ? 255 : static_cast<uint8_t>(x * 255 / (kWidth - 1));
            p[1] = in_bar ? 255 : static_cast<uint8_t>(y * 255 / (kHeight - 1));
            p[2] = in_bar ? 255 : 128;
            p[3] = 0;
        }
    }
}

uint64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_signal(int) { stop_requested = 1; }

std::string mode_name(int mode) {
    switch (mode) {
    case RS_MODE_VIEW_ONLY: return "view only";
    case RS_MODE_CONTROL: return "control";
    default: return "declined";
    }
}

std::string text(const char *s) { return s ? s : ""; }

// ---- The transport: a non-blocking TCP socket that owns its fd -------------------------------------------

class Socket {
public:
    Socket(const std::string &host, const std::string &port) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo *list = nullptr;
        if (int gai = getaddrinfo(host.c_str(), port.c_str(), &hints, &list); gai != 0)
            throw std::runtime_error(host + ":" + port + ": " + gai_strerror(gai));
        std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(list, &freeaddrinfo);
        int error = 0;
        for (addrinfo *a = list; a != nullptr && fd_ < 0; a = a->ai_next) {
            fd_ = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
            if (fd_ >= 0 && ::connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
                error = errno;
                ::close(fd_);
                fd_ = -1;
            }
        }
        if (fd_ < 0) throw std::system_error(error, std::generic_category(), "cannot connect to " + host + ":" + port);
        if (fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL, 0) | O_NONBLOCK) != 0) {
            error = errno;
            ::close(fd_);
            throw std::system_error(error, std::generic_category(), "fcntl");
        }
    }
    ~Socket() { ::close(fd_); }
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;

    int fd() const noexcept { return fd_; }

    // Sends what the socket takes now; returns the count (0 when full). Throws when the transport failed.
    size_t send_some(const uint8_t *data, size_t length) {
        size_t sent = 0;
        while (sent < length) {
            ssize_t n = ::send(fd_, data + sent, length - sent, MSG_NOSIGNAL);
            if (n > 0) sent += static_cast<size_t>(n);
            else if (n < 0 && errno == EINTR) continue;
            else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            else throw std::system_error(errno, std::generic_category(), "send");
        }
        return sent;
    }

    // Bytes received, 0 for nothing now (EAGAIN). Throws on end of stream or error.
    size_t receive(uint8_t *buffer, size_t size) {
        ssize_t n = ::recv(fd_, buffer, size, 0);
        if (n > 0) return static_cast<size_t>(n);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
        throw std::system_error(n == 0 ? ECONNRESET : errno, std::generic_category(), n == 0 ? "recv: the connection ended" : "recv");
    }

private:
    int fd_ = -1;
};

// ---- The session ---------------------------------------------------------------------------------------------

struct Options {
    std::string host, port, digits, name = "Example End User";
    bool auto_accept = false;
    long seconds = 0;
};

class EndUser {
public:
    explicit EndUser(Options options) : options_(std::move(options)) {
        rs::check("rs_pixel_format_preset", rs_pixel_format_preset(RS_FORMAT_BGRX8888, &format_));
        draw_frame(frame_, 0);
    }

    int run() {
        socket_ = std::make_unique<Socket>(options_.host, options_.port);
        char machine[256] = "example-host";
        gethostname(machine, sizeof machine - 1);
        conn_.join(RS_JOIN_CONNECTION_ID, options_.digits, options_.name, machine, "Linux (embedding example)");
        std::cout << "joining " << options_.host << ":" << options_.port << " with connection ID " << options_.digits
                  << std::endl;
        const uint64_t deadline = options_.seconds > 0 ? now_ms() + static_cast<uint64_t>(options_.seconds) * 1000u : 0;
        std::vector<uint8_t> buffer(65536);
        for (;;) {
            if (ended_ && !closed_) {
                conn_.close(RS_CLOSE_NORMAL); // the broker closes it next: say goodbye first
                handle_events();
            }
            try {
                if (socket_) flush();
            } catch (const std::system_error &e) {
                std::cerr << "enduser: " << e.what() << "\n";
                if (!transport_lost()) return exit_status_;
                continue;
            }
            if (closed_ && pending_.empty()) return exit_status_; // everything sent

            uint64_t now = now_ms();
            if (!stopping_ && (stop_requested || (deadline && now >= deadline))) {
                stopping_ = true;
                exit_status_ = 0;
                std::cout << "ending the session" << std::endl;
                // An end user that ends the session sends `end` and `close`: the connection closes itself.
                if (sharing_) conn_.end_session(RS_CLOSE_ENDED_BY_END_USER, "ended by the user");
                else conn_.close(RS_CLOSE_NORMAL, "the user gave up waiting");
                handle_events();
                continue;
            }

            // Sleep until the socket or stdin has something, the connection's deadline, or the next frame.
            uint64_t wake = now + 60000;
            if (auto at = conn_.next_wakeup()) wake = std::min(wake, *at);
            if (sharing_) wake = std::min(wake, next_frame_);
            if (deadline) wake = std::min(wake, deadline);
            pollfd fds[2] = {{socket_->fd(), static_cast<short>(POLLIN | (pending_.empty() ? 0 : POLLOUT)), 0},
                             {asking_ ? STDIN_FILENO : -1, POLLIN, 0}};
            if (::poll(fds, 2, wake > now ? static_cast<int>(wake - now) : 0) < 0 && errno != EINTR)
                throw std::system_error(errno, std::generic_category(), "poll");
            now = now_ms();

            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                try {
                    if (size_t n = socket_->receive(buffer.data(), buffer.size())) conn_.receive(buffer.data(), n, now);
                } catch (const std::system_error &e) {
                    if (!closed_ && !ended_) std::cerr << "enduser: " << e.what() << "\n";
                    if (!transport_lost()) return exit_status_;
                    continue;
                }
            }
            if (fds[1].revents & (POLLIN | POLLHUP)) read_answer();

            conn_.tick(now); // keepalive pings, handshake and keepalive timeouts
            if (sharing_ && now >= next_frame_) {
                draw_frame(frame_, ++frame_number_);
                dirty_ = true;
                next_frame_ = now + 100;
            }
            handle_events();
        }
    }

private:
    // Output is taken only while the socket keeps up: what it does not take is copied (the borrowed bytes
    // die with the next call on the connection) and sent first next time.
    void flush() {
        for (;;) {
            if (!pending_.empty()) {
                size_t sent = socket_->send_some(pending_.data(), pending_.size());
                pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(sent));
                if (!pending_.empty()) return; // full: wait for POLLOUT
            }
            auto [data, length] = conn_.take_output();
            if (length == 0) return;
            size_t sent = socket_->send_some(data, length);
            pending_.assign(data + sent, data + length);
        }
    }

    void answer(int mode) {
        conn_.consent(mode);
        asking_ = false;
        std::cout << "consent: " << mode_name(mode) << std::endl;
    }

    void read_answer() {
        std::string line;
        if (!std::getline(std::cin, line)) return answer(RS_MODE_DECLINE); // stdin closed: no
        if (line == "y" || line == "Y") answer(asked_mode_);
        else if (line == "v" || line == "V") answer(RS_MODE_VIEW_ONLY);
        else answer(RS_MODE_DECLINE);
    }

    void share() {
        if (!sharing_ || !ready_ || !dirty_) return;
        if (conn_.share_frame(frame_, kWidth, kHeight, kWidth * 4, format_)) {
            dirty_ = false;
            if (frame_number_ % 50 == 0) std::cout << "shared frame " << frame_number_ << std::endl;
        } else {
            ready_ = false; // no room: RS_EVENT_READY_FOR_FRAME says when
        }
    }

    void handle_events() {
        rs_event e = RS_EVENT_INIT;
        while (conn_.poll(e)) {
            switch (e.type) {
            case RS_EVENT_JOINED:
                std::cout << "joined: session " << e.session_id << ", waiting for an agent\n";
                break;
            case RS_EVENT_CONNECT_REQUESTED: {
                // Who asks, as the broker vouches for them. Show peer text as text, never as markup.
                std::string who = text(e.name);
                for (const char *part : {e.job_title, e.organisation})
                    if (part && *part) who += std::string(", ") + part;
                std::cout << "connect request: " << who << " asks for " << mode_name(e.mode) << "\n";
                asked_mode_ = e.mode;
                if (options_.auto_accept) {
                    answer(e.mode);
                } else {
                    asking_ = true;
                    std::cout << "allow? [y = " << mode_name(e.mode) << " / v = view only / n = no] " << std::flush;
                }
                break;
            }
            case RS_EVENT_SESSION_STARTED:
                std::cout << "session started (" << mode_name(e.mode) << "): security code " << text(e.text)
                          << " - the agent must read out the same\n";
                sharing_ = dirty_ = true;
                break;
            case RS_EVENT_PEER_VERIFIED: std::cout << "the agent's keys are confirmed\n"; break;
            case RS_EVENT_READY_FOR_FRAME: ready_ = true; break;
            case RS_EVENT_POINTER:
                std::cout << "pointer x=" << e.x << " y=" << e.y << " buttons=" << e.buttons << " wheel=" << e.wheel_x
                          << "," << e.wheel_y << "\n";
                break;
            case RS_EVENT_KEY:
                std::cout << "key keysym=0x" << std::hex << e.keysym << std::dec << (e.down ? " down" : " up") << "\n";
                break;
            case RS_EVENT_CLIPBOARD: std::cout << "clipboard: " << text(e.text).size() << " bytes\n"; break;
            case RS_EVENT_CHAT: std::cout << "chat: " << text(e.text) << "\n"; break;
            case RS_EVENT_PEER_AWAY:
                std::cout << "the agent dropped; it has " << e.grace_seconds << " s to come back\n";
                break;
            case RS_EVENT_PEER_RESUMED: std::cout << "the agent is back\n"; break;
            case RS_EVENT_RESUMED: std::cout << "reconnected to session " << text(e.session_id) << "\n"; break;
            case RS_EVENT_SESSION_ENDED:
                std::cout << "session ended: reason " << e.reason << " (" << text(e.text) << ")\n";
                // After a session: a normal end. Before one (the code expired, ...): a failure.
                exit_status_ = sharing_ || stopping_ ? 0 : 1;
                ended_ = true;
                sharing_ = false;
                break;
            case RS_EVENT_CLOSED:
                std::cout << "connection closed: reason " << e.reason << " by " << (e.by_peer ? "the broker" : "us")
                          << " (" << text(e.text) << ")\n";
                if (!ended_) exit_status_ = stopping_ ? 0 : 1;
                closed_ = true;
                ready_ = false; // a resumed session says when it has room again
                break;
            default: break; // events this program does not use
            }
        }
        std::cout << std::flush;
        share();
    }

    // The transport dropped: resume on a new socket if the session can come back. false: give up.
    bool transport_lost() {
        socket_.reset();
        pending_.clear();
        if (closed_ || ended_) return false;
        bool can_resume = conn_.connection_lost(now_ms());
        handle_events();
        for (int attempt = 1; can_resume && attempt <= 5; attempt++) {
            std::cout << "connection lost; reconnecting (attempt " << attempt << ")" << std::endl;
            std::this_thread::sleep_for(std::chrono::seconds(1));
            try {
                socket_ = std::make_unique<Socket>(options_.host, options_.port);
            } catch (const std::exception &e) {
                std::cerr << "enduser: " << e.what() << "\n";
                continue;
            }
            conn_.reconnect(now_ms());
            closed_ = ready_ = false;
            dirty_ = true;
            return true;
        }
        std::cerr << "enduser: the connection to the broker is lost\n";
        exit_status_ = 1;
        return false;
    }

    Options options_;
    rs::Connection conn_{RS_ROLE_END_USER, now_ms()}; // its hello is the first output
    std::unique_ptr<Socket> socket_;
    std::vector<uint8_t> pending_;
    std::vector<uint8_t> frame_;
    rs_pixel_format format_{};
    bool asking_ = false, sharing_ = false, ready_ = false, dirty_ = false;
    bool ended_ = false, closed_ = false, stopping_ = false;
    int asked_mode_ = RS_MODE_DECLINE, exit_status_ = 1;
    uint32_t frame_number_ = 0;
    uint64_t next_frame_ = 0;
};

int usage() {
    std::cerr << "usage: enduser HOST PORT CONNECTION-ID [--yes] [--seconds N] [--name NAME]\n";
    return 2;
}

} // namespace

int main(int argc, char **argv) {
    Options options;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        if (arg == "--yes") options.auto_accept = true;
        else if (arg == "--seconds" && i + 1 < argc) options.seconds = std::strtol(argv[++i], nullptr, 10);
        else if (arg == "--name" && i + 1 < argc) options.name = argv[++i];
        else if (!arg.empty() && arg[0] != '-' && positional.size() < 3) positional.push_back(arg);
        else return usage();
    }
    if (positional.size() != 3 || options.seconds < 0) return usage();
    options.host = positional[0];
    options.port = positional[1];

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    int status = 1;
    try {
        if (rs_version_number() / 1000000u != RS_VERSION_MAJOR)
            throw std::runtime_error(std::string("libremotesupport ") + rs_version() + " does not match the header " +
                                     RS_VERSION_STRING);
        // What the user typed ("123 456", "123-456", "123456"), checked here; the broker gets the digits.
        uint32_t code = 0;
        if (rs_connection_id_parse(positional[2].c_str(), &code) != RS_OK) {
            std::cerr << "enduser: " << positional[2] << ": " << rs_last_error() << "\n";
            return 2;
        }
        char digits[8];
        std::snprintf(digits, sizeof digits, "%06u", static_cast<unsigned>(code));
        options.digits = digits;
        EndUser app(options); // owns the connection and the socket: both released when it goes
        status = app.run();
    } catch (const rs::Error &e) {
        std::cerr << "enduser: " << e.what() << "\n";
    } catch (const std::exception &e) {
        std::cerr << "enduser: " << e.what() << "\n";
    }
    std::cout << "exit " << status << std::endl;
    return status;
}
