#include "common/error.hpp"

#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace confide {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "confide"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::unauthenticated:
                return "not authenticated";
            case errc::forbidden:
                return "forbidden";
            case errc::invalid_argument:
                return "invalid argument";
            case errc::too_large:
                return "too large";
            case errc::rate_limited:
                return "rate limited";
            case errc::unavailable:
                return "temporarily unavailable";
            case errc::conflict:
                return "conflict";
            case errc::failed_precondition:
                return "failed precondition";
            case errc::internal:
                return "internal error";
            case errc::not_found:
                return "not found";
        }
        return "unknown confide error";
    }
};

}  // namespace

const boost::system::error_category& confide_category() noexcept {
    static const category instance;
    return instance;
}

void throw_exception_from_error(const failure& f, const boost::source_location& loc) {
    boost::throw_exception(std::runtime_error(make_error_code(f.code).message() + ": " + f.message),
                           loc);
}

}  // namespace confide
