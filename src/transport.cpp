// ws:// and mqtt://, and the choice of transport. wss:// and mqtts:// are in transport_tls.cpp,
// normally a module loaded here on demand, so that this binary does not link OpenSSL.
#include "transport_impl.hpp"

#include "tls_module.hpp"

#if WSMQTT_TLS_MODULE
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#endif

namespace wsmqtt {
namespace {

using namespace transport_detail;

/// Stands in for a transport that cannot be made: connecting fails with the reason.
class unavailable_transport final : public transport {
public:
    explicit unavailable_transport(failure why) : why_{std::move(why)} {}

    net::awaitable<std::optional<failure>> connect() override { co_return why_; }
    net::awaitable<read_result> read() override { co_return read_result{{}, why_}; }
    net::awaitable<std::optional<failure>> write(send_buffers const&) override { co_return why_; }
    net::awaitable<std::optional<failure>> write_part(send_buffers const&, bool) override { co_return why_; }
    net::awaitable<void> close() override { co_return; }
    void cancel() noexcept override {}

private:
    failure why_;
};

#if WSMQTT_TLS_MODULE
/// The folder of this binary, from /proc/self/exe (symbolic links resolved).
std::string binary_folder()
{
    char path[PATH_MAX];
    auto const n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return {};
    std::string_view const self{path, static_cast<std::size_t>(n)};
    return std::string{self.substr(0, self.rfind('/'))};
}

/// Loads wsmqtt-tls.so once: next to the binary (the build tree), else where cmake --install
/// puts it relative to the binary.
std::variant<tls_transport_factory*, failure> load_tls_module()
{
    auto const folder = binary_folder();
    std::string const candidates[] = {folder + "/" + tls_module_file,
                                      folder + "/" WSMQTT_TLS_MODULE_DIR "/" + tls_module_file};
    for (auto const& path : candidates) {
        if (::access(path.c_str(), F_OK) != 0) continue;
        void* const module = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
        if (!module) return failure{exit_code::tls, fmt::format("cannot load the TLS module: {}", ::dlerror())};
        auto* const factory = reinterpret_cast<tls_transport_factory*>(::dlsym(module, "wsmqtt_tls_transport"));
        if (!factory) return failure{exit_code::tls, fmt::format("{} is not wsmqtt's TLS module", path)};
        return factory;
    }
    return failure{exit_code::tls, fmt::format("TLS support is not installed: {} is neither in {} nor in {}", tls_module_file,
                                               folder, folder + "/" WSMQTT_TLS_MODULE_DIR)};
}
#endif

std::unique_ptr<transport> make_tls_transport_or_failure(net::any_io_executor executor, config const& cfg)
{
#if WSMQTT_TLS_MODULE
    static auto const loaded = load_tls_module();
    if (auto const* f = std::get_if<failure>(&loaded)) return std::make_unique<unavailable_transport>(*f);
    auto* const factory = std::get<tls_transport_factory*>(loaded);
    if (auto* const made = factory(version, executor, cfg)) return std::unique_ptr<transport>{made};
    return std::make_unique<unavailable_transport>(
        failure{exit_code::tls, fmt::format("the TLS module {} is not from wsmqtt {}: reinstall wsmqtt", tls_module_file, version)});
#else
    return make_tls_transport(executor, cfg);
#endif
}

} // namespace

std::unique_ptr<transport> make_transport(net::any_io_executor executor, config const& cfg)
{
    switch (cfg.endpoint.scheme) {
    case scheme::ws: return std::make_unique<stream_transport<false, true>>(executor, cfg);
    case scheme::mqtt: return std::make_unique<stream_transport<false, false>>(executor, cfg);
    case scheme::wss:
    case scheme::mqtts: return make_tls_transport_or_failure(executor, cfg);
    }
    return nullptr;
}

} // namespace wsmqtt
