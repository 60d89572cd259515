// confide-cli chat: a line-based interactive client for both roles.

#include "cli.hpp"
#include "directory_text.hpp"

#include <boost/program_options/value_semantic.hpp>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace confide::cli {

namespace po = boost::program_options;
using client::clock;
using client::close_reason;
using client::connection_state;
using client::conversation;
using client::conversation_state;
using client::done_handler;
using client::error;
using client::handlers;
using client::history_page;
using client::message;
using client::options;
using client::presence;
using client::presence_state;
using client::result;
using client::role;
using client::send_state;
using client::send_update;
using client::state_change;
using client::typing;

namespace {

constexpr std::size_t max_preferred_times = 5;
constexpr std::uint32_t specialists_page = 10;

constexpr const char* help_text = R"(commands:
  /specialists [specialty=S] [language=L] [accepting] [more]
                        (clients) the directory: who you can write to, when they are in office
                        (in your time zone) and how fast they reply; `more`: the next page
  /list                 your conversations (specialists: inquiries first), with unread counts
  /open N               open conversation N of the last /list and show its latest messages
  /history              older messages of the open conversation
  TEXT                  send TEXT to the open conversation
  /inquire USER TEXT    (clients) write to specialist USER, opening an inquiry
  /topic TEXT           (clients) what your next inquiry is about (/topic alone: none)
  /prefer YYYY-MM-DD HH:MM-HH:MM
                        (clients) a time you would like for the initial consultation, local
                        time; up to 5 for your next inquiry (/prefer alone: none)
  /free                 (clients) ask for the free initial consultation with your next inquiry
  /accept               (specialists) accept the open inquiry
  /decline [REASON]     (specialists) decline it; REASON: no-capacity, outside-expertise,
                        schedule, language, other-care, other
  /close                close the open conversation
  /typing               tell the other party you are typing
  /away /online         your presence
  /signout              end this device's session on the server
  /quit                 leave
ticks: ✓ stored by the server, ✓✓ delivered to the other party, ✓✓ read: they read it)";

// Concatenation into one string. It also keeps GCC 12 at -O3 quiet: `"literal" + std::string&&`
// there trips a false -Wrestrict (GCC bug 105651).
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string out;
    (out += ... += parts);
    return out;
}

std::string clock_time(std::int64_t ms) {
    if (ms <= 0) {
        return "--:--";
    }
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[8];
    std::strftime(buf, sizeof buf, "%H:%M", &tm);
    return buf;
}

std::string preview(const std::string& body) {
    constexpr std::size_t max = 40;
    if (body.size() <= max) {
        return "\"" + body + "\"";
    }
    // Cut on a UTF-8 character boundary.
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0U) == 0x80U) {
        --cut;
    }
    return cat("\"", body.substr(0, cut), "…\"");
}

class chat_session {
public:
    explicit chat_session(options o) : url_(o.url) {
        handlers h;
        h.on_state = [this](const state_change& s) { on_state(s); };
        h.on_message = [this](const message& m) { on_message(m); };
        h.on_conversation = [this](const conversation& c) { on_conversation(c); };
        h.on_presence = [this](const presence& p) { on_presence(p); };
        h.on_typing = [this](const typing& t) { on_typing(t); };
        h.on_send_update = [this](const send_update& u) { on_send_update(u); };
        h.on_reset = [this] { on_reset(); };
        client_ = std::make_unique<client::client>(std::move(o), std::move(h));
        c_ = client_.get();
    }

    int run() {
        say("connecting to " + url_ + " … (/help for commands)");
        c_->start();
        std::string pending;
        char buf[4096];
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (closed_) {
                    break;
                }
            }
            pollfd p{STDIN_FILENO, POLLIN, 0};
            const int ready = ::poll(&p, 1, 200);
            if (ready < 0 && errno != EINTR) {
                break;
            }
            if (ready <= 0) {
                continue;
            }
            const auto n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0) {
                break;  // EOF
            }
            pending.append(buf, static_cast<std::size_t>(n));
            bool quit = false;
            for (auto nl = pending.find('\n'); nl != std::string::npos && !quit;
                 nl = pending.find('\n')) {
                auto line = pending.substr(0, nl);
                pending.erase(0, nl + 1);
                if (!line.empty() && line.back() == '\r') {
                    line.pop_back();
                }
                quit = !command(line);
            }
            if (quit) {
                break;
            }
        }
        // Destroy without holding the lock: callbacks still running take it.
        client_.reset();
        std::lock_guard lock(mutex_);
        return exit_code_;
    }

private:
    // ---- the library's thread ----

    void on_state(const state_change& s) {
        std::lock_guard lock(mutex_);
        switch (s.state) {
            case connection_state::connecting:
                break;
            case connection_state::connected:
                me_ = s.user_id;
                role_ = s.user_role;
                notice_ = s.safety_notice;
                if (!connected_once_) {
                    connected_once_ = true;
                    say_locked("connected as " + me_ + " (" + to_string(role_) + ")");
                    if (s.retention_days > 0) {
                        say_locked(retention_text(s.retention_days));
                    }
                    list_locked();
                } else {
                    say_locked("reconnected — catching up");
                }
                break;
            case connection_state::connection_lost: {
                const auto in = std::chrono::duration_cast<std::chrono::milliseconds>(
                    s.next_attempt - clock::now());
                std::ostringstream out;
                out.precision(1);
                out << std::fixed << "connection lost (" << s.detail << ") — reconnecting in "
                    << static_cast<double>(std::max<long long>(in.count(), 0)) / 1000.0 << " s…";
                say_locked(out.str());
                break;
            }
            case connection_state::closed:
                if (s.reason == close_reason::idle_logoff) {
                    say_locked("signed out after inactivity: start confide-cli again to continue");
                } else {
                    say_locked(std::string("closed: ") + to_string(s.reason) +
                               (s.detail.empty() ? "" : " (" + s.detail + ")"));
                }
                closed_ = true;
                exit_code_ =
                    s.reason == close_reason::signed_out || s.reason == close_reason::stopped
                        ? exit_ok
                        : exit_closed;
                break;
        }
    }

    void on_message(const message& m) {
        std::lock_guard lock(mutex_);
        const std::string who = m.outgoing ? "you" : m.sender_id;
        if (m.conversation_id == open_) {
            say_locked(cat("[", clock_time(m.server_time_ms), "] ", who, ": ", m.body));
            last_seq_ = std::max(last_seq_, m.seq);
            if (!m.outgoing) {
                c_->mark_read(m.conversation_id, m.seq);
            }
            return;
        }
        say_locked(cat("[", clock_time(m.server_time_ms), "] (", label(m.conversation_id), ") ",
                       who, ": ", m.body));
        if (auto* c = find(m.conversation_id); c != nullptr && !m.outgoing) {
            ++c->unread_count;
        }
    }

    void on_conversation(const conversation& c) {
        std::lock_guard lock(mutex_);
        auto* known = find(c.id);
        if (known == nullptr) {
            list_.push_back(c);
            if (c.state == conversation_state::inquiry && role_ == role::specialist) {
                say_locked("* new inquiry from " + c.client_id + " (" + label(c.id) + "): /open " +
                           std::to_string(list_.size()) + ", then /accept or /decline");
                if (const auto about = inquiry_text(c); !about.empty()) {
                    say_locked(about);
                }
                return;
            }
        } else {
            const auto unread = known->unread_count;
            *known = c;
            known->unread_count = std::max(unread, c.unread_count);
        }
        say_locked("* conversation " + label(c.id) + " with " + other_party(c) + " is now " +
                   to_string(c.state) + outcome_text(c));
    }

    // Why a conversation ended the way it did, for the person reading: " — ..." or "".
    std::string outcome_text(const conversation& c) const {
        const bool client = role_ == role::client;
        if (c.state == conversation_state::expired) {
            return client ? " — the inquiry was not answered in time; you can write to someone "
                            "else (/specialists)"
                          : " — the inquiry was not answered in time";
        }
        if (c.state == conversation_state::declined) {
            const auto why = decline_text(c.decline_reason);
            if (!client) {
                return why.empty() ? "" : cat(" — ", why);
            }
            return cat(" — ", why.empty() ? std::string() : why + " ",
                       "You can write to someone else (/specialists).");
        }
        return {};
    }

    // An inquiry's topic, preferred times, free consultation and expiry: "  topic: ..." lines,
    // or "".
    std::string inquiry_text(const conversation& c) const {
        const auto now = now_ms();
        std::vector<std::string> lines;
        if (!c.topic.empty()) {
            lines.push_back("  topic: " + c.topic);
        }
        if (!c.preferred_times.empty()) {
            std::string times;
            for (const auto& t : c.preferred_times) {
                times += (times.empty() ? "" : ", ") + range_text(t, now);
            }
            lines.push_back("  preferred times: " + times);
        }
        if (c.free_consultation) {
            lines.emplace_back("  asks for the free initial consultation");
        }
        if (c.state == conversation_state::inquiry && c.expires_at_ms > 0) {
            lines.push_back("  expires unanswered " + when_text(c.expires_at_ms, now));
        }
        std::string out;
        for (const auto& l : lines) {
            out += (out.empty() ? "" : "\n") + l;
        }
        return out;
    }

    void on_presence(const presence& p) {
        std::lock_guard lock(mutex_);
        const auto before = presence_[p.user_id];
        presence_[p.user_id] = p.state;
        if (before != p.state) {
            say_locked("* " + p.user_id + " is " + to_string(p.state) +
                       (p.connection_lost ? " (connection lost)" : ""));
        }
    }

    void on_typing(const typing& t) {
        std::lock_guard lock(mutex_);
        if (t.conversation_id == open_ && t.user_id != me_ && t.active) {
            say_locked("* " + t.user_id + " is typing…");
        }
    }

    void on_send_update(const send_update& u) {
        std::lock_guard lock(mutex_);
        auto it = mine_.find(u.client_msg_id);
        if (it == mine_.end()) {
            return;
        }
        const auto what = preview(it->second);
        switch (u.state) {
            case send_state::pending:
                return;
            case send_state::sent:
                if (u.safety_notice && notice_shown_.count(u.client_msg_id) == 0) {
                    say_locked(safety_notice_text(*u.safety_notice));
                }
                notice_shown_.erase(u.client_msg_id);
                if (open_.empty() && !u.conversation_id.empty()) {
                    // The answer to /inquire: the conversation it went to becomes the open one.
                    open_ = u.conversation_id;
                    last_seq_ = u.seq;
                    say_locked("* inquiry sent; conversation " + u.conversation_id + " is open");
                }
                say_locked("  ✓ sent " + what);
                return;
            case send_state::delivered:
                say_locked("  ✓✓ delivered " + what);
                return;
            case send_state::read:
                say_locked("  ✓✓ read " + what);
                mine_.erase(it);
                return;
            case send_state::failed:
                notice_shown_.erase(u.client_msg_id);
                say_locked(
                    std::string("  ✗ not sent ") + what + ": " +
                    (u.err ? u.err->message + " (" + client::to_string(u.err->code) + ")" : ""));
                mine_.erase(it);
                return;
        }
    }

    void on_reset() {
        std::lock_guard lock(mutex_);
        say_locked("* the server lost our place in the event stream — reloading");
        list_locked();
    }

    // ---- the terminal's thread ----

    // Returns false to quit.
    bool command(const std::string& line) {
        std::lock_guard lock(mutex_);
        if (line.empty()) {
            return true;
        }
        if (line[0] != '/') {
            if (open_.empty()) {
                say_locked("no open conversation: /list and /open N, or /inquire USER TEXT");
                return true;
            }
            const auto id = c_->send_message(open_, line);
            mine_[id] = line;
            say_locked(cat("[", clock_time(now_ms()), "] you: ", line));
            return true;
        }
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        std::string rest;
        std::getline(in >> std::ws, rest);
        if (cmd == "/quit" || cmd == "/exit") {
            return false;
        }
        if (cmd == "/help") {
            say_locked(help_text);
        } else if (cmd == "/list") {
            list_locked();
        } else if (cmd == "/open") {
            open_locked(rest);
        } else if (cmd == "/history") {
            if (require_open()) {
                history_locked(oldest_shown_);
            }
        } else if (cmd == "/inquire") {
            std::istringstream args(rest);
            std::string specialist;
            args >> specialist;
            std::string text;
            std::getline(args >> std::ws, text);
            if (specialist.empty() || text.empty()) {
                say_locked("usage: /inquire SPECIALIST TEXT");
            } else {
                inquire_locked(specialist, text);
            }
        } else if (cmd == "/specialists") {
            specialists_locked(rest);
        } else if (cmd == "/topic") {
            next_inquiry_.topic = rest;
            say_locked(rest.empty() ? "no topic for your next inquiry"
                                    : "topic of your next inquiry: " + rest);
        } else if (cmd == "/prefer") {
            prefer_locked(rest);
        } else if (cmd == "/free") {
            next_inquiry_.free_consultation = !next_inquiry_.free_consultation;
            say_locked(next_inquiry_.free_consultation
                           ? "your next inquiry asks for the free initial consultation"
                           : "your next inquiry does not ask for the free initial consultation");
        } else if (cmd == "/accept" || cmd == "/decline" || cmd == "/close") {
            auto reason = client::decline_reason::unspecified;
            if (cmd == "/decline" && !rest.empty()) {
                const auto r = parse_decline_reason(rest);
                if (!r) {
                    say_locked("usage: /decline [REASON], REASON one of " + decline_reason_names());
                    return true;
                }
                reason = *r;
            }
            if (require_open()) {
                auto done = [this, cmd](const result<conversation>& r) {
                    std::lock_guard l(mutex_);
                    if (!r) {
                        say_locked(cmd + " failed: " + r.err().message);
                    }
                };
                if (cmd == "/accept") {
                    c_->accept(open_, done);
                } else if (cmd == "/decline") {
                    c_->decline(open_, reason, done);
                } else {
                    c_->close(open_, done);
                }
            }
        } else if (cmd == "/typing") {
            if (require_open()) {
                c_->set_typing(open_, true, report("typing"));
            }
        } else if (cmd == "/away" || cmd == "/online") {
            c_->set_presence(cmd == "/away" ? presence_state::away : presence_state::online,
                             report(cmd.substr(1)));
        } else if (cmd == "/signout") {
            c_->sign_out(report("sign out"));
        } else {
            say_locked("unknown command " + cmd + " (/help)");
        }
        return true;
    }

    done_handler report(const std::string& what) {
        return [this, what](std::optional<error> e) {
            if (e) {
                std::lock_guard l(mutex_);
                say_locked(what + " failed: " + e->message);
            }
        };
    }

    bool require_open() {
        if (open_.empty()) {
            say_locked("no open conversation (/list, /open N)");
            return false;
        }
        return true;
    }

    void list_locked() {
        c_->list_conversations(50, [this](result<std::vector<conversation>> r) {
            std::lock_guard lock(mutex_);
            if (!r) {
                say_locked("list failed: " + r.err().message);
                return;
            }
            list_ = std::move(r).value();
            if (list_.empty()) {
                say_locked(role_ == role::client ? "no conversations yet: /inquire SPECIALIST TEXT"
                                                 : "no conversations yet");
                return;
            }
            std::ostringstream out;
            for (std::size_t i = 0; i < list_.size(); ++i) {
                const auto& c = list_[i];
                const auto other = other_party(c);
                out << (i == 0 ? "" : "\n") << (c.id == open_ ? "*" : " ") << (i + 1) << ". ["
                    << to_string(c.state) << "] " << other;
                if (c.other_presence) {
                    presence_[other] = c.other_presence->state;
                }
                std::string status;
                if (auto p = presence_.find(other); p != presence_.end()) {
                    status = to_string(p->second);
                }
                if (c.other_presence && c.other_presence->availability) {
                    const auto hours = availability_text(*c.other_presence->availability, now_ms());
                    status += (status.empty() || hours.empty() ? "" : " · ") + hours;
                }
                if (!status.empty()) {
                    out << " (" << status << ")";
                }
                if (!c.topic.empty()) {
                    out << "  about \"" << c.topic << "\"";
                }
                if (c.state == conversation_state::inquiry && c.expires_at_ms > 0) {
                    out << "  expires " << when_text(c.expires_at_ms, now_ms());
                }
                if (c.unread_count > 0) {
                    out << "  " << c.unread_count << " unread";
                }
                if (c.last_message) {
                    out << "  " << (c.last_message->outgoing ? "you: " : "")
                        << preview(c.last_message->body);
                }
            }
            say_locked(out.str());
        });
    }

    void open_locked(const std::string& arg) {
        std::size_t n = 0;
        try {
            n = std::stoul(arg);
        } catch (...) {
            n = 0;
        }
        if (n == 0 || n > list_.size()) {
            say_locked("usage: /open N, N from /list");
            return;
        }
        const auto& c = list_[n - 1];
        open_ = c.id;
        last_seq_ = c.last_seq;
        oldest_shown_ = 0;
        say_locked(cat("— ", label(c.id), " with ", other_party(c), " [", to_string(c.state), "]",
                       outcome_text(c), " —"));
        if (const auto about = inquiry_text(c); !about.empty()) {
            say_locked(about);
        }
        history_locked(0);
    }

    void history_locked(std::uint64_t before) {
        const auto conv = open_;
        c_->history(conv, before, 20, [this, conv, before](const result<history_page>& r) {
            std::lock_guard lock(mutex_);
            if (!r) {
                say_locked("history failed: " + r.err().message);
                return;
            }
            if (conv != open_) {
                return;
            }
            const auto& page = r.value();
            const auto* c = find(conv);
            std::ostringstream out;
            if (before != 0) {
                out << "— older —";
            }
            // Newest first on the wire; a terminal reads top-down.
            for (auto it = page.messages.rbegin(); it != page.messages.rend(); ++it) {
                if (out.tellp() > 0) {
                    out << "\n";
                }
                out << "[" << clock_time(it->server_time_ms) << "] "
                    << (it->outgoing ? "you" : it->sender_id) << ": " << it->body;
                if (it->outgoing && c != nullptr) {
                    out << (it->seq <= c->other_read_seq        ? "  ✓✓ read"
                            : it->seq <= c->other_delivered_seq ? "  ✓✓"
                                                                : "  ✓");
                }
            }
            if (page.messages.empty()) {
                out << (before == 0 ? "(no messages)" : "(nothing older)");
            } else {
                oldest_shown_ = page.messages.back().seq;
                if (page.more) {
                    out << "\n(/history for older)";
                }
                const auto newest = page.messages.front().seq;
                if (before == 0 && !page.messages.front().outgoing) {
                    c_->mark_read(conv, newest);
                }
                last_seq_ = std::max(last_seq_, newest);
            }
            if (auto* known = find(conv); known != nullptr && before == 0) {
                known->unread_count = 0;
            }
            say_locked(out.str());
        });
    }

    // Writes to `specialist` with the topic, times and free consultation staged for it; the
    // safety notice comes first, as the person starts.
    void inquire_locked(const std::string& specialist, const std::string& text) {
        open_.clear();
        const auto id = c_->start_inquiry(specialist, text, std::exchange(next_inquiry_, {}));
        mine_[id] = text;
        if (notice_) {
            say_locked(safety_notice_text(*notice_));
            notice_shown_.insert(id);
        }
        say_locked(cat("[", clock_time(now_ms()), "] you → ", specialist, ": ", text));
    }

    void prefer_locked(const std::string& arg) {
        if (arg.empty()) {
            next_inquiry_.preferred_times.clear();
            say_locked("no preferred times for your next inquiry");
            return;
        }
        const auto range = parse_local_range(arg);
        if (!range) {
            say_locked("usage: /prefer YYYY-MM-DD HH:MM-HH:MM (your local time)");
            return;
        }
        if (next_inquiry_.preferred_times.size() >= max_preferred_times) {
            say_locked("at most 5 preferred times (/prefer alone clears them)");
            return;
        }
        next_inquiry_.preferred_times.push_back(*range);
        say_locked("preferred for your next inquiry: " + range_text(*range, now_ms()));
    }

    // /specialists [specialty=S] [language=L] [accepting] [more]
    void specialists_locked(const std::string& args) {
        client::specialist_filter filter;
        std::istringstream in(args);
        bool more = false;
        for (std::string word; in >> word;) {
            if (word == "more") {
                more = true;
            } else if (word == "accepting") {
                filter.accepting_new_clients_only = true;
            } else if (word.rfind("specialty=", 0) == 0) {
                filter.specialty = word.substr(10);
            } else if (word.rfind("language=", 0) == 0) {
                filter.language = word.substr(9);
            } else {
                say_locked("usage: /specialists [specialty=S] [language=L] [accepting] [more]");
                return;
            }
        }
        if (more) {
            if (next_specialists_.page_token.empty()) {
                say_locked("no more specialists (/specialists to start over)");
                return;
            }
            filter = next_specialists_;
        }
        filter.limit = specialists_page;
        const auto shown_before = more ? specialists_shown_ : 0;
        c_->list_specialists(
            filter, [this, filter, shown_before](const result<client::specialist_page>& r) {
                std::lock_guard lock(mutex_);
                if (!r) {
                    say_locked("directory failed: " + r.err().message);
                    return;
                }
                const auto& page = r.value();
                if (page.specialists.empty()) {
                    say_locked("no specialists match");
                    return;
                }
                const auto now = now_ms();
                std::string out;
                for (std::size_t i = 0; i < page.specialists.size(); ++i) {
                    const auto n = std::to_string(shown_before + i + 1) + ". ";
                    out += (out.empty() ? "" : "\n") +
                           specialist_text(page.specialists[i], now, std::string(n.size(), ' '))
                               .replace(0, n.size(), n);
                }
                specialists_shown_ = shown_before + page.specialists.size();
                next_specialists_ = filter;
                next_specialists_.page_token = page.next_page_token;
                out += page.next_page_token.empty() ? "\n/inquire ID TEXT writes to one of them"
                                                    : "\n/specialists more for the next page";
                say_locked(out);
            });
    }

    // ---- helpers (mutex_ held) ----

    conversation* find(const std::string& id) {
        auto it = std::find_if(list_.begin(), list_.end(),
                               [&](const conversation& c) { return c.id == id; });
        return it == list_.end() ? nullptr : &*it;
    }

    std::string label(const std::string& id) {
        for (std::size_t i = 0; i < list_.size(); ++i) {
            if (list_[i].id == id) {
                return cat("#", std::to_string(i + 1));
            }
        }
        return id.substr(0, 8);
    }

    std::string other_party(const conversation& c) const {
        return c.client_id == me_ ? c.specialist_id : c.client_id;
    }

    static std::int64_t now_ms() {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    void say(const std::string& line) {
        std::lock_guard lock(mutex_);
        say_locked(line);
    }

    void say_locked(const std::string& line) { std::cout << line << std::endl; }

    std::string url_;
    std::unique_ptr<client::client> client_;
    client::client* c_ = nullptr;  // stays valid while client_'s destructor runs callbacks

    std::mutex mutex_;  // everything below, and stdout
    std::string me_;
    role role_ = role::unknown;
    std::vector<conversation> list_;
    std::map<std::string, presence_state> presence_;
    std::map<std::string, std::string> mine_;      // client_msg_id -> body, until read or failed
    std::optional<client::safety_notice> notice_;  // from the server, for clients
    std::set<std::string> notice_shown_;           // inquiries whose notice was shown when typed
    client::inquiry_details next_inquiry_;         // staged by /topic, /prefer, /free
    client::specialist_filter next_specialists_;   // /specialists more
    std::size_t specialists_shown_ = 0;
    std::string open_;
    std::uint64_t last_seq_ = 0;
    std::uint64_t oldest_shown_ = 0;
    bool connected_once_ = false;
    bool closed_ = false;
    int exit_code_ = exit_ok;
};

std::string default_device() {
    char host[64] = {};
    ::gethostname(host, sizeof host - 1);
    std::string out = "cli-chat-";
    for (const char* p = host; *p != '\0'; ++p) {
        const char c = *p;
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-';
        out.push_back(ok ? c : '-');
    }
    return out;
}

}  // namespace

int run_chat(int argc, char** argv) {
    po::options_description d("chat options");
    d.add_options()("help", "this text");
    add_connection_options(d);
    po::variables_map vm;
    if (!parse(argc, argv, d, vm, "chat [--url ws://127.0.0.1:8080] --token T [--device D]")) {
        std::cout << help_text << "\n";
        return exit_ok;
    }
    chat_session session(connection_options(vm, default_device()));
    return session.run();
}

}  // namespace confide::cli
