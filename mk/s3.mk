# The S3 client (src/net) and its test against a running S3 stand-in (test/s3/start.mjs).
# src/net is plain C++ like src/core: compiled without the server's include path.

NET_PKGS     = libcurl libxml-2.0 libcrypto
NET_CXXFLAGS = -std=c++17 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra $(WERROR) $(shell pkg-config --cflags $(NET_PKGS))
NET_OBJS     = src/net/s3_client.o

src/net/%.o: src/net/%.cpp src/net/*.h src/core/no_postgres.h
	$(CXX) $(NET_CXXFLAGS) -c -o $@ $<

# Built with everything else so a warning in it fails the -Werror build; not linked into the
# module yet.
all: $(NET_OBJS)

S3_CLIENT_TEST = build/s3_client_test
$(S3_CLIENT_TEST): test/net/s3_client_test.cpp $(NET_OBJS)
	@mkdir -p build
	$(CXX) $(NET_CXXFLAGS) -o $@ $^ -lgtest -pthread $(shell pkg-config --libs $(NET_PKGS))

# Needs S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY (test/integration/s3_client.sh sets them);
# without S3_ENDPOINT only the offline cases run.
s3-client-test: $(S3_CLIENT_TEST)

EXTRA_CLEAN += $(NET_OBJS) $(S3_CLIENT_TEST)

.PHONY: s3-client-test
