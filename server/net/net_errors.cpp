#include "net/net_errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

namespace confide::net {

bool is_expected_end(const boost::system::error_code& ec) noexcept {
    namespace beast = boost::beast;
    namespace aerr = boost::asio::error;
    return ec == aerr::operation_aborted || ec == aerr::eof || ec == aerr::connection_reset ||
           ec == aerr::connection_aborted || ec == aerr::broken_pipe ||
           ec == aerr::bad_descriptor || ec == aerr::not_connected || ec == beast::error::timeout ||
           ec == beast::websocket::error::closed || ec == beast::http::error::end_of_stream;
}

}  // namespace confide::net
