# resume_pipeline — PGXS build.
#
# Two artefacts: the extension module (C entry layer, loaded into backends) and
# resume_pipeline_parser, the helper executable that parses untrusted documents in its own
# resource-limited process (core C++ + poppler-cpp, libzip, libxml2, nlohmann_json).

EXTENSION  = resume_pipeline
MODULE_big = resume_pipeline
OBJS       = src/pg/module.o src/pg/settings.o src/pg/parser_client.o src/pg/document_functions.o \
             src/pg/fs_storage.o src/pg/storage.o src/pg/xact_functions.o src/pg/shmem.o src/pg/launcher.o \
             src/pg/worker.o src/pg/worker_xact.o src/pg/job_loop.o src/pg/job_steps.o src/pg/event_loop.o src/pg/circuit.o src/pg/metrics.o src/pg/applicant_trigger.o src/pg/job_id.o src/pg/identity.o src/pg/channel.o src/pg/core_bridge.o \
             src/pg/llm_functions.o src/pg/net_client.o src/pg/net_loop.o src/pg/s3_storage.o src/pg/rate_limit.o $(MODULE_CORE_OBJS)
# The few core pieces the backend itself runs (name checks, the model client: reading the
# model's answer is exception-safe and fuzzed); documents never are.
MODULE_CORE_OBJS = src/core/object_path.o src/core/utf8_text.o src/core/llm_resume.o src/core/llm_schema.o \
                   src/net/s3_client.o
SHLIB_LINK = -lstdc++ $(shell pkg-config --libs libcurl libxml-2.0 libcrypto)
PG_CXXFLAGS = -std=c++17 -fvisibility=hidden -Wall -Wextra $(WERROR)
# The install script is built from per-area sources (sql/install/NN_area.sql, joined in order);
# an upgrade script from its own parts (sql/upgrade/A--B/NN_area.sql) and the privileges, which
# take EXECUTE back from PUBLIC on every function the upgrade created. Released install scripts
# are kept in sql/released/ (test/integration/upgrade.sh installs 0.1.0 from there).
EXTVERSION = 0.2.0
DATA_built = build/resume_pipeline--$(EXTVERSION).sql build/resume_pipeline--0.1.0--0.2.0.sql
PGFILEDESC = "resume_pipeline - résumé pipeline inside PostgreSQL"

REGRESS      = documents zip_entries limits rls applicants pipeline
REGRESS_OPTS = --load-extension=resume_pipeline --inputdir=test

# CI builds with WERROR=-Werror; a warning is then a failure.
WERROR   ?=
PG_CFLAGS = -DRP_EXTVERSION='"$(EXTVERSION)"' -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare $(WERROR)

HELPER       = resume_pipeline_parser
CORE_SRCS    = $(wildcard src/core/*.cpp)
# Every library the core uses (unit tests, fuzzers and tools link the whole core).
HELPER_PKGS  = poppler-cpp libzip libxml-2.0 re2 libseccomp tesseract lept wv-1.0 libgsf-1
# The parser itself links only what most documents need. OCR and Word .doc, whose libraries pull in
# some fifty more shared objects, are a plugin next to it that a document process loads when its
# document needs them (src/helper/heavy_plugin.h): the zygote forks without them.
HEAVY_PLUGIN = resume_pipeline_parser_heavy.so
HEAVY_PKGS   = tesseract lept wv-1.0 libgsf-1
HEAVY_CORE   = src/core/ocr.o src/core/doc_text.o
HEAVY_OBJS   = src/helper/heavy_plugin.o $(HEAVY_CORE) src/core/ocr_limits.o src/core/limits.o src/core/utf8_text.o src/core/code_pages.o
HELPER_OBJS  = src/helper/parser_main.o src/helper/document_process.o src/helper/request.o src/helper/sandbox.o \
               src/helper/heavy_client.o src/helper/colour_management.o $(filter-out $(HEAVY_CORE),$(CORE_SRCS:.cpp=.o))
# Little CMS: the parser turns poppler's colour management off (src/helper/colour_management.cpp).
PARSER_PKGS  = $(filter-out $(HEAVY_PKGS),$(HELPER_PKGS)) lcms2
CORE_CXXFLAGS = -std=c++17 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra $(WERROR) $(shell pkg-config --cflags $(HELPER_PKGS))

# Not installed: builds the project's sample documents and hostile test inputs.
TOOL = tools/make_documents

EXTRA_CLEAN = $(HELPER) $(HELPER_OBJS) $(HEAVY_PLUGIN) $(HEAVY_OBJS) $(TOOL) build/ results/ regression.diffs regression.out

# PGXS would also emit LLVM bitcode with clang at C++14; the module is C and needs no JIT.
override with_llvm = no

# More module objects, one file per area (mk/objs/*.mk: OBJS += …, MODULE_CORE_OBJS += …), read
# before PGXS sets its rules from OBJS.
-include $(sort $(wildcard mk/objs/*.mk))

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The C layer's objects are rebuilt when any of its headers changes (PGXS tracks no headers, and
# a struct that changed size under an old object is a stack smash, not a build error).
$(filter src/pg/%,$(OBJS)): $(wildcard src/pg/*.h) src/protocol/parser_protocol.h

# The core and the helper never see the server's include path: a Postgres header there is a
# build error, not a convention.
src/core/%.o: src/core/%.cpp src/core/*.h
	$(CXX) $(CORE_CXXFLAGS) -c -o $@ $<
src/helper/%.o: src/helper/%.cpp src/helper/*.h src/core/*.h src/protocol/parser_protocol.h
	$(CXX) $(CORE_CXXFLAGS) -c -o $@ $<

build/resume_pipeline--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql))
	@mkdir -p build
	cat $^ > $@
# Areas new in 0.2.0 go into the upgrade as their install source is (a part beside it,
# sql/upgrade/0.1.0--0.2.0/NN_area_data.sql, adds what only an update does, such as counting
# 0.1.0's finished jobs); all parts are joined in the order of their file names.
NEW_IN_0.2.0 = 15_housekeeping 32_bucket_rules 35_migration 59_ashby 62_reprocess 82_history
UPGRADE_0.2.0 = $(wildcard sql/upgrade/0.1.0--0.2.0/*.sql) $(NEW_IN_0.2.0:%=sql/install/%.sql)
build/resume_pipeline--0.1.0--0.2.0.sql: $(UPGRADE_0.2.0) sql/install/90_privileges.sql
	@mkdir -p build
	for f in $(UPGRADE_0.2.0); do echo "$${f##*/} $$f"; done | LC_ALL=C sort | cut -d' ' -f2 | xargs cat > $@
	cat sql/install/90_privileges.sql >> $@

# --as-needed: a library a pkg-config line names but nothing calls is not mapped by every process.
$(HELPER): $(HELPER_OBJS)
	$(CXX) -o $@ $^ -Wl,--as-needed $(shell pkg-config --libs $(PARSER_PKGS))
$(HEAVY_PLUGIN): $(HEAVY_OBJS)
	$(CXX) -shared -o $@ $^ -Wl,-z,defs -Wl,--as-needed $(shell pkg-config --libs $(HEAVY_PKGS))

all: $(HELPER) $(HEAVY_PLUGIN)

install: install-helper
install-helper: $(HELPER) $(HEAVY_PLUGIN)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(HELPER) '$(DESTDIR)$(bindir)/$(HELPER)'
	$(INSTALL_SHLIB) $(HEAVY_PLUGIN) '$(DESTDIR)$(bindir)/$(HEAVY_PLUGIN)'

uninstall: uninstall-helper
uninstall-helper:
	rm -f '$(DESTDIR)$(bindir)/$(HELPER)' '$(DESTDIR)$(bindir)/$(HEAVY_PLUGIN)'

$(TOOL): tools/make_documents.cpp
	$(CXX) -std=c++17 -O2 -Wall -Wextra $(WERROR) $(shell pkg-config --cflags cairo libzip) -o $@ $< \
		$(shell pkg-config --libs cairo libzip)

# Unit tests of the core, outside the server (GoogleTest).
UNIT = build/core_test
$(UNIT): $(wildcard test/unit/*.cpp) $(CORE_SRCS:.cpp=.o)
	@mkdir -p build
	$(CXX) $(CORE_CXXFLAGS) -o $@ $^ -lgtest -lgtest_main -pthread $(shell pkg-config --libs $(HELPER_PKGS))

unit: $(UNIT)
	$(UNIT)

samples: $(TOOL)
	samples/build.sh build/samples

# The regression suite reads the samples and the crafted bad inputs.
fixtures: samples
	test/fixtures.sh build/fixtures

installcheck: fixtures

.PHONY: install-helper uninstall-helper samples fixtures unit

# Further rules, one file per area (network clients, stand-in servers): mk/*.mk.
-include $(wildcard mk/*.mk)
