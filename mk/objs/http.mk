# HTTP requests of call jobs: the request JSON → transfer → response layer (src/pg/http_call.c)
# and the generic HTTP transfer it runs on the backend's client (src/net/http_request.cpp).
# Read before PGXS: variables only, no rules (a rule here would become the default goal).
OBJS             += src/pg/http_call.o
MODULE_CORE_OBJS += src/net/http_request.o
