# Installs into a scratch prefix and runs the installed binary.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
foreach(f bin/wsmqtt share/bash-completion/completions/wsmqtt share/zsh/site-functions/_wsmqtt
          share/fish/vendor_completions.d/wsmqtt.fish share/man/man1/wsmqtt.1.gz share/man/man1/wsmqtt-sub.1.gz
          share/man/man1/wsmqtt-pub.1.gz share/man/man1/wsmqtt-rr.1.gz share/man/man1/wsmqtt-bench.1.gz)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
execute_process(COMMAND ${PREFIX}/bin/wsmqtt --version OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^wsmqtt [0-9]+\\.[0-9]+\\.[0-9]+")
  message(FATAL_ERROR "installed binary does not run: ${rc} ${out}")
endif()
# TLS is in the binary: a refused mqtts:// connection is a network failure (exit 1).
execute_process(COMMAND ${PREFIX}/bin/wsmqtt pub -L mqtts://127.0.0.1:1 -t t -m x
                ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "installed binary: a refused mqtts:// connection should exit 1, got ${rc}: ${err}")
endif()
message(STATUS "installed and ran: ${out}")
