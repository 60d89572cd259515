// The web client's files: loading a directory, content types, caching, and what is refused.

#include "net/static_files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace confide::net::test {
namespace {

namespace fs = std::filesystem;

class web_root : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "confide-web-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
    }
    void TearDown() override { fs::remove_all(root_); }

    void write(const std::string& relative, const std::string& body) {
        fs::create_directories((root_ / relative).parent_path());
        std::ofstream(root_ / relative, std::ios::binary) << body;
    }

    fs::path root_;
};

TEST_F(web_root, LoadsEveryFileWithItsTypeAndCachePolicy) {
    write("index.html", "<!doctype html><title>x</title>");
    write("assets/app-AB12.js", "console.log(1)");
    write("assets/style-CD34.css", "body{}");
    write(".git/HEAD", "hidden directory");
    write(".env", "hidden file");
    auto files = static_files::load(root_.string());
    EXPECT_EQ(files->size(), 3u);

    const auto* index = files->find("/");
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index, files->find("/index.html"));
    EXPECT_EQ(index->body, "<!doctype html><title>x</title>");
    EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(index->cache_control, "no-cache");
    EXPECT_EQ(index->etag.size(), 18u);
    EXPECT_EQ(index->etag.front(), '"');

    const auto* js = files->find("/assets/app-AB12.js");
    ASSERT_NE(js, nullptr);
    EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(js->cache_control, "public, max-age=31536000, immutable");
    EXPECT_NE(js->etag, index->etag);
    EXPECT_EQ(files->find("/assets/style-CD34.css")->content_type, "text/css; charset=utf-8");
}

TEST_F(web_root, PathsMatchExactlyWithNoWayOutOfTheSet) {
    write("index.html", "i");
    write("assets/a.js", "a");
    auto files = static_files::load(root_.string());
    for (const char* path : {"", "/assets", "/assets/", "/../index.html", "/assets/../index.html",
                             "/%2e%2e/index.html", "/.env", "//index.html", "/INDEX.HTML"}) {
        EXPECT_EQ(files->find(path), nullptr) << path;
    }
}

TEST_F(web_root, SameBytesSameEtag) {
    write("index.html", "same");
    auto a = static_files::load(root_.string());
    auto b = static_files::load(root_.string());
    EXPECT_EQ(a->find("/")->etag, b->find("/")->etag);
}

TEST_F(web_root, AMissingDirectoryOrIndexIsAClearError) {
    try {
        static_files::load((root_ / "nope").string());
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("--web-root"), std::string::npos) << e.what();
    }
    write("assets/app.js", "x");
    try {
        static_files::load(root_.string());
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("no index.html"), std::string::npos) << e.what();
    }
}

TEST_F(web_root, TooManyFilesIsRefused) {
    write("index.html", "i");
    for (std::size_t i = 0; i < static_files::max_files; ++i) {
        write("f/" + std::to_string(i) + ".txt", "x");
    }
    EXPECT_THROW(static_files::load(root_.string()), std::runtime_error);
}

TEST(static_file_types, ByExtension) {
    EXPECT_EQ(static_files::content_type_of("/a.svg"), "image/svg+xml");
    EXPECT_EQ(static_files::content_type_of("/a.woff2"), "font/woff2");
    EXPECT_EQ(static_files::content_type_of("/a.map"), "application/json");
    EXPECT_EQ(static_files::content_type_of("/README"), "application/octet-stream");
    EXPECT_EQ(static_files::content_type_of("/v1.2/file"), "application/octet-stream");
}

}  // namespace
}  // namespace confide::net::test
