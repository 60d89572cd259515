#include "report.hpp"

#include "confide/v1/confide.pb.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdio>
#include <sstream>

namespace confide::loadgen {
namespace {

namespace json = boost::json;

double per_second(std::uint64_t n, double seconds) {
    return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

json::object latency_json(const histogram& h) {
    json::object o;
    o["count"] = h.count();
    o["min"] = h.min();
    o["mean"] = h.mean();
    o["p50"] = h.value_at_percentile(50);
    o["p90"] = h.value_at_percentile(90);
    o["p99"] = h.value_at_percentile(99);
    o["p99_9"] = h.value_at_percentile(99.9);
    o["max"] = h.max();
    return o;
}

std::string error_name(std::size_t code) {
    if (code + 1 == error_code_slots) {
        return "OTHER";
    }
    const auto& name = v1::ErrorCode_Name(static_cast<v1::ErrorCode>(code));
    return name.empty() ? "CODE_" + std::to_string(code) : name;
}

void add_reason(verdict& v, std::uint64_t n, const char* what) {
    if (n > 0) {
        v.reasons.push_back(std::to_string(n) + " " + what);
    }
}

}  // namespace

std::string format_us(std::uint64_t us) {
    char buf[32];
    if (us < 1000) {
        std::snprintf(buf, sizeof buf, "%llu us", static_cast<unsigned long long>(us));
    } else if (us < 10'000'000) {
        std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(us) / 1000.0);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(us) / 1e6);
    }
    return buf;
}

verdict judge(const run_result& r) {
    verdict v;
    const auto& t = r.tally;
    const auto& c = r.totals;
    add_reason(v, t.lost, "acked messages never delivered to the other party (lost)");
    if (r.opt.expect_echo) {
        add_reason(v, t.lost_echo, "acked messages never pushed to the sender's own device");
    }
    add_reason(v, t.duplicated, "duplicate deliveries");
    add_reason(v, c.seq_duplicates, "seqs pushed twice to one device");
    add_reason(v, c.reordered, "messages out of conversation order (reordered)");
    add_reason(v, r.seq_holes, "seqs never pushed to a device (gaps)");
    add_reason(v, c.corrupted, "corrupted messages (body, seq or conversation)");
    add_reason(v, c.misrouted, "messages pushed to a device that is not a party");
    add_reason(v, c.unknown_messages, "pushed messages this run never sent");
    add_reason(v, c.sync_resets, "sync resets on resume (events may be missing)");
    if (!v.reasons.empty()) {
        v.exit_code = 1;
    }
    if (r.connections_failed > r.opt.max_failed_connections) {
        v.reasons.push_back(
            std::to_string(r.connections_failed) +
            " connections failed (allowed: " + std::to_string(r.opt.max_failed_connections) + ")");
        if (v.exit_code == 0) {
            v.exit_code = 3;
        }
    }
    if (t.unacked > 0) {
        v.warnings.push_back(std::to_string(t.unacked) + " messages still unacked at the end");
    }
    if (t.failed > 0) {
        v.warnings.push_back(std::to_string(t.failed) + " messages refused for good");
    }
    if (!r.drained && !r.opt.connect_only) {
        v.warnings.emplace_back("the drain period ended before every message was settled");
    }
    if (c.unexpected_closes > 0) {
        v.warnings.push_back(std::to_string(c.unexpected_closes) +
                             " connections closed unexpectedly (and resumed)");
    }
    if (c.bad_frames > 0) {
        v.warnings.push_back(std::to_string(c.bad_frames) + " frames made no sense");
    }
    return v;
}

json::value to_json(const run_result& r, const verdict& v) {
    const auto& o = r.opt;
    const auto& c = r.totals;
    json::object root;
    root["tool"] = "confide-loadgen";
    root["report_version"] = 1;
    root["started_at"] = r.started_at;
    root["run_id"] = o.run_id;

    json::object cfg;
    cfg["url"] = o.url;
    cfg["mode"] = o.connect_only ? "connect-only" : (o.backlog ? "backlog" : "messages");
    cfg["clients"] = o.clients;
    cfg["specialists"] = o.specialists;
    cfg["threads"] = o.threads;
    cfg["rate"] = o.rate;
    cfg["window"] = o.window;
    cfg["duration_s"] = o.duration_s;
    cfg["messages_per_connection"] = o.messages_per_connection;
    cfg["body_bytes"] = o.body_bytes;
    cfg["ramp_up_s"] = o.ramp_up_s;
    cfg["churn"] = o.churn;
    cfg["drain_s"] = o.drain_s;
    cfg["ack_delay_ms"] = o.ack_delay_ms;
    cfg["expect_echo"] = o.expect_echo;
    cfg["skip_own_echo"] = o.skip_own_echo;
    json::array sources;
    for (const auto& s : o.source_addresses) {
        sources.push_back(json::value(s));
    }
    cfg["source_addresses"] = std::move(sources);
    root["config"] = std::move(cfg);

    root["elapsed_s"] = r.elapsed_s;
    json::object window;
    window["start_s"] = r.measure_start_s;
    window["end_s"] = r.measure_end_s;
    root["measure_window"] = std::move(window);

    json::object conns;
    conns["target"] = o.connections();
    conns["established"] = c.established;
    conns["failed"] = r.connections_failed;
    conns["gave_up"] = c.failed;
    conns["attempts"] = c.connect_attempts;
    conns["attempt_failures"] = c.attempt_failures;
    conns["peak_live"] = r.peak_live;
    conns["churn_drops"] = c.drops;
    conns["reconnects"] = c.reconnects;
    conns["unexpected_closes"] = c.unexpected_closes;
    json::object closes;
    for (std::size_t i = 0; i < c.server_closes.size(); ++i) {
        if (c.server_closes[i] > 0) {
            const auto code = close_code_of(i);
            closes[code == 0 ? std::string("other") : std::to_string(code)] = c.server_closes[i];
        }
    }
    conns["server_close_codes"] = std::move(closes);
    root["connections"] = std::move(conns);

    const auto& t = r.tally;
    json::object msgs;
    msgs["generated"] = t.generated;
    msgs["sent_frames"] = c.sent;
    msgs["retries"] = c.retries;
    msgs["acked"] = t.acked;
    msgs["acked_as_duplicate"] = c.acked_duplicate;
    msgs["delivered"] = t.delivered;
    msgs["echoed"] = t.echoed;
    msgs["failed"] = t.failed;
    msgs["unacked"] = t.unacked;
    msgs["delivered_unacked"] = t.delivered_unacked;
    msgs["lost"] = t.lost;
    msgs["lost_echo"] = t.lost_echo;
    msgs["duplicated"] = t.duplicated;
    msgs["reordered"] = c.reordered;
    msgs["seq_duplicates"] = c.seq_duplicates;
    msgs["seq_gap_events"] = c.seq_gaps;
    msgs["seq_holes"] = r.seq_holes;
    msgs["corrupted"] = c.corrupted;
    msgs["misrouted"] = c.misrouted;
    msgs["unknown"] = c.unknown_messages;
    msgs["behind_schedule"] = c.behind_schedule;
    msgs["sync_resets"] = c.sync_resets;
    msgs["drained"] = r.drained;
    msgs["drain_s"] = r.drain_s;
    root["messages"] = std::move(msgs);

    const double w = r.measure_end_s - r.measure_start_s;
    const auto& a = r.at_measure_start;
    const auto& b = r.at_measure_end;
    json::object rates;
    rates["window_s"] = w;
    rates["sent_per_s"] = per_second(b.sent - a.sent, w);
    rates["acked_per_s"] = per_second(b.acked - a.acked, w);
    rates["delivered_per_s"] = per_second(b.delivered - a.delivered, w);
    rates["overall_acked_per_s"] = per_second(t.acked, r.measure_end_s);
    rates["overall_delivered_per_s"] = per_second(t.delivered, r.measure_end_s);
    root["rates"] = std::move(rates);

    json::object lat;
    lat["unit"] = "us";
    lat["ack"] = latency_json(r.ack);
    lat["delivery"] = latency_json(r.delivery);
    root["latency"] = std::move(lat);

    json::object errors;
    for (std::size_t i = 0; i < c.errors.size(); ++i) {
        if (c.errors[i] > 0) {
            errors[error_name(i)] = c.errors[i];
        }
    }
    root["errors"] = std::move(errors);

    json::object frames;
    frames["events"] = c.events;
    frames["echo_replies"] = c.echo_replies;
    frames["conversation_events"] = c.conversation_events;
    frames["receipts"] = c.receipts;
    frames["presence"] = c.presence;
    frames["acks_sent"] = c.acks_sent;
    frames["pings_sent"] = c.pings_sent;
    frames["error_replies"] = c.error_replies;
    frames["bad"] = c.bad_frames;
    root["frames"] = std::move(frames);

    if (r.backlog) {
        json::object bl;
        bl["messages"] = r.backlog->messages;
        bl["drain_ms"] = r.backlog->drain_ms;
        bl["messages_per_s"] = r.backlog->drain_ms > 0 ? static_cast<double>(r.backlog->messages) /
                                                             (r.backlog->drain_ms / 1000.0)
                                                       : 0.0;
        root["backlog"] = std::move(bl);
    }

    json::object tl;
    json::array ts, live, sent, acked, delivered, ack99, del99;
    const counter_values* prev = nullptr;
    double prev_t = 0;
    for (const auto& p : r.timeline) {
        const double dt = p.t_s - prev_t;
        ts.push_back(p.t_s);
        live.push_back(p.live);
        sent.push_back(per_second(p.totals.sent - (prev ? prev->sent : 0), dt));
        acked.push_back(per_second(p.totals.acked - (prev ? prev->acked : 0), dt));
        delivered.push_back(per_second(p.totals.delivered - (prev ? prev->delivered : 0), dt));
        ack99.push_back(p.ack_p99_us);
        del99.push_back(p.delivery_p99_us);
        prev = &p.totals;
        prev_t = p.t_s;
    }
    tl["t_s"] = std::move(ts);
    tl["live"] = std::move(live);
    tl["sent_per_s"] = std::move(sent);
    tl["acked_per_s"] = std::move(acked);
    tl["delivered_per_s"] = std::move(delivered);
    tl["ack_p99_us"] = std::move(ack99);
    tl["delivery_p99_us"] = std::move(del99);
    root["timeline"] = std::move(tl);

    json::object notes;
    for (const auto& [what, n] : r.notes) {
        notes[what] = n;
    }
    root["notes"] = std::move(notes);

    json::object verdict_json;
    verdict_json["ok"] = v.exit_code == 0;
    verdict_json["exit_code"] = v.exit_code;
    json::array reasons, warnings;
    for (const auto& s : v.reasons) {
        reasons.push_back(json::value(s));
    }
    for (const auto& s : v.warnings) {
        warnings.push_back(json::value(s));
    }
    verdict_json["reasons"] = std::move(reasons);
    verdict_json["warnings"] = std::move(warnings);
    root["verdict"] = std::move(verdict_json);
    return root;
}

std::string summary_text(const run_result& r, const verdict& v) {
    std::ostringstream out;
    const auto& c = r.totals;
    const auto& t = r.tally;
    const double w = r.measure_end_s - r.measure_start_s;
    out << "connections: " << c.established << "/" << r.opt.connections() << " established, "
        << r.connections_failed << " failed, peak live " << r.peak_live << ", " << c.reconnects
        << " reconnects\n";
    if (!r.opt.connect_only) {
        out << "messages: " << t.generated << " generated, " << t.acked << " acked, " << t.delivered
            << " delivered, " << t.lost << " lost, " << t.duplicated << " duplicated, "
            << c.reordered << " reordered, " << c.corrupted << " corrupted\n";
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "rates over %.1f s: %.0f sent/s, %.0f acked/s, %.0f delivered/s\n", w,
                      per_second(r.at_measure_end.sent - r.at_measure_start.sent, w),
                      per_second(r.at_measure_end.acked - r.at_measure_start.acked, w),
                      per_second(r.at_measure_end.delivered - r.at_measure_start.delivered, w));
        out << buf;
        for (const auto& [name, h] :
             {std::pair<const char*, const histogram*>{"ack", &r.ack}, {"delivery", &r.delivery}}) {
            if (h->count() == 0) {
                continue;
            }
            out << name << " latency: p50 " << format_us(h->value_at_percentile(50)) << ", p90 "
                << format_us(h->value_at_percentile(90)) << ", p99 "
                << format_us(h->value_at_percentile(99)) << ", p99.9 "
                << format_us(h->value_at_percentile(99.9)) << ", max " << format_us(h->max())
                << "\n";
        }
        if (r.backlog) {
            out << "backlog: " << r.backlog->messages << " messages drained in "
                << format_us(static_cast<std::uint64_t>(r.backlog->drain_ms * 1000)) << "\n";
        }
    }
    for (std::size_t i = 0; i < c.errors.size(); ++i) {
        if (c.errors[i] > 0) {
            out << "errors " << error_name(i) << ": " << c.errors[i] << "\n";
        }
    }
    for (const auto& s : v.warnings) {
        out << "warning: " << s << "\n";
    }
    for (const auto& s : v.reasons) {
        out << "FAILED: " << s << "\n";
    }
    out << (v.exit_code == 0 ? "result: OK" : "result: FAILED") << "\n";
    return out.str();
}

}  // namespace confide::loadgen
