# The model client's schema, installed beside the extension's SQL scripts.
install: install-llm-schema
install-llm-schema:
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension'
	$(INSTALL_DATA) sql/resume_schema.json '$(DESTDIR)$(datadir)/extension/resume_pipeline_schema.json'

uninstall: uninstall-llm-schema
uninstall-llm-schema:
	rm -f '$(DESTDIR)$(datadir)/extension/resume_pipeline_schema.json'

.PHONY: install-llm-schema uninstall-llm-schema

# The backend's HTTP client (src/pg/net_client.cpp: C++ behind a C interface) outside the server:
# compiled here without the server's include path, and its GoogleTest (test/net/net_client_test.cpp)
# drives it with a poll() loop against the OpenAI and S3 stand-ins (test/integration/net_client.sh).
NET_CLIENT_TEST     = build/net_client_test
NET_CLIENT_TEST_LIB = build/net_client_test_lib.o
$(NET_CLIENT_TEST_LIB): src/pg/net_client.cpp src/pg/net_client.h src/net/*.h src/core/*.h
	@mkdir -p build
	$(CXX) $(NET_CXXFLAGS) -c -o $@ $<
$(NET_CLIENT_TEST): test/net/net_client_test.cpp $(NET_CLIENT_TEST_LIB) src/net/http_request.o \
                    src/net/s3_client.o src/core/llm_resume.o src/core/llm_schema.o src/core/utf8_text.o
	$(CXX) $(NET_CXXFLAGS) -o $@ $^ -lgtest -lgtest_main -pthread $(shell pkg-config --libs $(NET_PKGS))

net-client-test: $(NET_CLIENT_TEST)

# The module's copy of the client is C++ compiled by PGXS's implicit rule, which knows no headers:
# it is rebuilt when the src/net or core headers it compiles against change.
src/pg/net_client.o: src/net/*.h src/core/*.h

EXTRA_CLEAN += $(NET_CLIENT_TEST) $(NET_CLIENT_TEST_LIB)

.PHONY: net-client-test
