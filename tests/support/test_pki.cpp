#include "support/test_pki.hpp"

#include "support/process.hpp"

#include <fstream>
#include <stdexcept>
#include <vector>

namespace confide::test {

using namespace std::chrono_literals;

test_pki::test_pki() : dir_("confide-pki") {
    ca_ = dir_ / "ca.pem";
    ca_key_ = dir_ / "ca.key";
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", ca_key_.string(), "-out", ca_.string(), "-days", "2", "-sha256", "-subj",
             "/CN=Confide Test CA"});
}

certificate_files test_pki::issue(const std::string& name, const std::string& common_name,
                                  const std::string& alt_names) {
    certificate_files f{dir_ / (name + ".pem"), dir_ / (name + ".key")};
    const auto csr = dir_ / (name + ".csr");
    const auto ext = dir_ / (name + ".ext");
    std::ofstream(ext) << "subjectAltName=" << alt_names << "\n"
                       << "basicConstraints=CA:FALSE\n"
                          "keyUsage=digitalSignature\n"
                          "extendedKeyUsage=serverAuth\n";
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             f.key.string(), "-out", csr.string(), "-subj", "/CN=" + common_name});
    openssl({"x509", "-req", "-in", csr.string(), "-CA", ca_.string(), "-CAkey", ca_key_.string(),
             "-CAcreateserial", "-out", f.cert.string(), "-days", "1", "-sha256", "-extfile",
             ext.string()});
    return f;
}

void test_pki::openssl(std::vector<std::string> args) {
    child_process::options opts;
    opts.name = "openssl";
    opts.forward_output = false;
    child_process p("openssl", std::move(args), std::move(opts));
    const auto status = p.wait_exit(30s);
    if (status != 0) {
        std::string out;
        for (const auto& l : p.lines()) {
            out += l + "\n";
        }
        throw std::runtime_error("openssl failed: " + out);
    }
}

}  // namespace confide::test
