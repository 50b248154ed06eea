# One place for compiler warnings; -Werror when WSMQTT_WERROR is on (CI).
function(wsmqtt_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough
    # Packets are aggregates whose later members (MQTT 5 properties, reason codes) have default
    # member initializers: `publish{"t", "x"}` leaves them at their defaults on purpose.
    -Wno-missing-field-initializers
    # GCC 12 reports std::vector::insert/std::string::insert at -O2 as overflowing
    # (GCC bugs 105329, 105651): false positives in library code, fixed in GCC 13.
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-stringop-overflow -Wno-restrict>
    $<$<BOOL:${WSMQTT_WERROR}>:-Werror>)
endfunction()
