#include "routing/connection.hpp"

#include "common/log.hpp"
#include "protocol/codec.hpp"
#include "routing/routing_metrics.hpp"

namespace confide::routing {

connection::connection(executor strand, outbound& out, connection_info info)
    : strand_(std::move(strand)),
      out_(out),
      info_(std::move(info)),
      log_prefix_("conn=" + info_.connection_id + " user=-") {}

void connection::set_authenticated(auth::identity id, std::string device_id) {
    identity_ = std::move(id);
    device_id_ = std::move(device_id);
    authenticated_ = true;
    stats::sessions.inc();
    stats::authentications.inc();
    log_prefix_ = "conn=" + info_.connection_id + " user=" + identity_.user_id;
}

void connection::reply(v1::Frame& frame, std::uint64_t rid) {
    if (closed_) {
        return;
    }
    frame.set_request_id(rid);
    out_.send(protocol::encode(frame));
}

void connection::reply_ok(std::uint64_t rid) {
    v1::Frame f;
    f.mutable_ok();
    reply(f, rid);
}

void connection::reply_error(std::uint64_t rid, const failure& f) {
    if (closed_) {
        return;
    }
    if (f.code == errc::internal) {
        log::error("{} internal error: {}", log_prefix_, f.message);
    }
    stats::count_error(f.code);
    out_.send(protocol::encode_error(rid, f));
}

void connection::push(std::shared_ptr<const std::string> frame) {
    if (!closed_) {
        out_.send(std::move(frame));
    }
}

void connection::set_closed() noexcept {
    if (!closed_ && authenticated_) {
        stats::sessions.dec();
    }
    closed_ = true;
}

void connection::go_away(std::uint16_t code, const std::string& reason) {
    if (closed_) {
        return;
    }
    v1::Frame f;
    f.mutable_go_away()->set_close_code(code);
    f.mutable_go_away()->set_reason(reason);
    out_.send(protocol::encode(f));
    out_.close(code, reason);
}

void connection::close(std::uint16_t code, std::string reason) {
    if (!closed_) {
        out_.close(code, std::move(reason));
    }
}

std::size_t connection::queued_bytes() const noexcept {
    return closed_ ? 0 : out_.queued_bytes();
}

}  // namespace confide::routing
