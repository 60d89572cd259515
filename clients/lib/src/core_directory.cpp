// The core's directory requests: list_specialists and get_specialist (one SpecialistsReply).

#include "core.hpp"
#include "wire_directory.hpp"

#include "confide/v1/confide.pb.h"

#include <optional>
#include <utility>

namespace confide::client::detail {

template <class T, class Convert>
void core::request_value(v1::Frame& frame, reply_handler<T> done, Convert convert,
                         clock::time_point now) {
    auto on_error = [this, done](error e) {
        if (done) {
            complete([done, e = std::move(e)] { done(result<T>(e)); });
        }
    };
    auto on_reply = [this, done = std::move(done),
                     convert = std::move(convert)](const v1::Frame& reply) {
        if (!done) {
            return;
        }
        std::optional<T> value = convert(reply);
        if (!value) {
            complete([done] {
                done(result<T>(error{error_code::protocol_error, "unexpected reply from the server",
                                     false, 0}));
            });
            return;
        }
        complete([done, v = std::move(*value)]() mutable { done(result<T>(std::move(v))); });
    };
    request(frame, std::move(on_reply), std::move(on_error), now);
}

void core::list_specialists(specialist_filter filter, reply_handler<specialist_page> done,
                            clock::time_point now) {
    v1::Frame f;
    auto* r = f.mutable_list_specialists();
    r->set_specialty(std::move(filter.specialty));
    r->set_language(std::move(filter.language));
    r->set_accepting_new_clients_only(filter.accepting_new_clients_only);
    r->set_limit(filter.limit);
    r->set_page_token(std::move(filter.page_token));
    request_value(
        f, std::move(done),
        [](const v1::Frame& reply) -> std::optional<specialist_page> {
            if (!reply.has_specialists()) {
                return std::nullopt;
            }
            specialist_page page;
            page.next_page_token = reply.specialists().next_page_token();
            for (const auto& s : reply.specialists().specialists()) {
                page.specialists.push_back(from_proto(s));
            }
            return page;
        },
        now);
}

void core::get_specialist(std::string specialist_id, reply_handler<specialist> done,
                          clock::time_point now) {
    v1::Frame f;
    f.mutable_get_specialist()->set_specialist_id(std::move(specialist_id));
    request_value(
        f, std::move(done),
        [](const v1::Frame& reply) -> std::optional<specialist> {
            if (!reply.has_specialists() || reply.specialists().specialists_size() != 1) {
                return std::nullopt;
            }
            return from_proto(reply.specialists().specialists(0));
        },
        now);
}

}  // namespace confide::client::detail
