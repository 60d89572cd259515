#include "support/redis_backend.hpp"

#include <stdexcept>

namespace confide::test {

redis_backend::redis_backend(backend_kind kind) {
    if (kind == backend_kind::cluster) {
        cluster_ = std::make_unique<redis_cluster>();
    } else {
        single_ = std::make_unique<redis_server>();
    }
}

redis_backend::~redis_backend() = default;

std::unique_ptr<server_process> redis_backend::start_server(std::vector<std::string> extra_args,
                                                            std::string name) const {
    if (cluster_) {
        return std::make_unique<server_process>(*cluster_, std::move(extra_args), std::move(name));
    }
    return std::make_unique<server_process>(*single_, std::move(extra_args), std::move(name));
}

void redis_backend::list_specialist(const std::string& id, std::vector<std::string> extra) const {
    if (cluster_) {
        confide::test::list_specialist(*cluster_, id, std::move(extra));
    } else {
        confide::test::list_specialist(*single_, id, std::move(extra));
    }
}

std::string redis_backend::on_owner(const std::string& key,
                                    const std::vector<std::string>& args) const {
    return cluster_ ? cluster_->command(cluster_->owner_of(key), args) : single_->command(args);
}

}  // namespace confide::test
