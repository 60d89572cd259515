// The core's directory requests: list_specialists and get_specialist (one SpecialistsReply).

#include "core.hpp"
#include "wire_directory.hpp"

#include "confide/v1/confide.pb.h"

namespace confide::client::detail {

namespace {

error unexpected_directory_reply() {
    return error{error_code::protocol_error, "unexpected reply from the server", false, 0};
}

}  // namespace

void core::list_specialists(specialist_filter filter, reply_handler<specialist_page> done,
                            clock::time_point now) {
    using result_type = result<specialist_page>;
    v1::Frame f;
    auto* r = f.mutable_list_specialists();
    r->set_specialty(std::move(filter.specialty));
    r->set_language(std::move(filter.language));
    r->set_accepting_new_clients_only(filter.accepting_new_clients_only);
    r->set_limit(filter.limit);
    r->set_page_token(std::move(filter.page_token));
    auto on_error = [this, done](error e) {
        if (done) {
            complete([done, e = std::move(e)] { done(result_type(e)); });
        }
    };
    auto on_reply = [this, done](const v1::Frame& reply) {
        if (!done) {
            return;
        }
        if (!reply.has_specialists()) {
            complete([done] { done(result_type(unexpected_directory_reply())); });
            return;
        }
        specialist_page page;
        page.next_page_token = reply.specialists().next_page_token();
        for (const auto& s : reply.specialists().specialists()) {
            page.specialists.push_back(from_proto(s));
        }
        complete([done, page = std::move(page)]() mutable { done(result_type(std::move(page))); });
    };
    request(f, std::move(on_reply), std::move(on_error), now);
}

void core::get_specialist(std::string specialist_id, reply_handler<specialist> done,
                          clock::time_point now) {
    using result_type = result<specialist>;
    v1::Frame f;
    f.mutable_get_specialist()->set_specialist_id(std::move(specialist_id));
    auto on_error = [this, done](error e) {
        if (done) {
            complete([done, e = std::move(e)] { done(result_type(e)); });
        }
    };
    auto on_reply = [this, done](const v1::Frame& reply) {
        if (!done) {
            return;
        }
        if (!reply.has_specialists() || reply.specialists().specialists_size() != 1) {
            complete([done] { done(result_type(unexpected_directory_reply())); });
            return;
        }
        auto s = from_proto(reply.specialists().specialists(0));
        complete([done, s = std::move(s)]() mutable { done(result_type(std::move(s))); });
    };
    request(f, std::move(on_reply), std::move(on_error), now);
}

}  // namespace confide::client::detail
