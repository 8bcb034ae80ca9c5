# The built-in candidate scorer: score_fit() (src/pg/fit_functions.c, sql/install/55_fit_score.sql)
# over the core's rp::fit (src/core/fit_score.cpp; it also needs llm_schema.o and utf8_text.o,
# already in MODULE_CORE_OBJS).
OBJS             += src/pg/fit_functions.o src/pg/fit_bridge.o
MODULE_CORE_OBJS += src/core/fit_score.o

# fit_bridge.cpp is plain C++ like the core and is compiled like it, without the server's
# include path (PGXS's %.o: %.cpp would add it). A pattern rule, so that this file sets no
# default goal; its shorter stem wins over PGXS's rule. No fit_*.cpp other than the bridge.
src/pg/fit_%.o: src/pg/fit_%.cpp src/pg/bridge_copy.h src/core/*.h
	$(CXX) $(CORE_CXXFLAGS) -c -o $@ $<
