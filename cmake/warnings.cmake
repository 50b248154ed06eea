# One place for compiler warnings; -Werror when WSMQTT_WERROR is on (CI).
function(wsmqtt_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough
    $<$<BOOL:${WSMQTT_WERROR}>:-Werror>)
endfunction()
