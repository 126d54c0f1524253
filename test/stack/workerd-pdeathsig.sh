#!/bin/sh
# workerd for `wrangler dev` in tests (MINIFLARE_WORKERD_PATH, see wrangler-dev.ts): the kernel
# kills it when the wrangler that started it dies, even by SIGKILL, so it never holds ports after
# a crashed test run.
exec setpriv --pdeathsig SIGKILL -- "$CRONPLANE_WORKERD_BINARY" "$@"
