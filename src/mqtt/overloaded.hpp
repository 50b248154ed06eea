// The visitor helper for std::visit over several lambdas.
#pragma once

namespace wsmqtt {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
// Needed by clang 14, which does not deduce aggregates' template arguments yet (P1816).
template <class... F>
overloaded(F...) -> overloaded<F...>;

} // namespace wsmqtt
