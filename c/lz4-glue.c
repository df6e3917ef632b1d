/* fledge-action's entry points into Debian's lz4 1.9.4, compiled to
   WebAssembly by scripts/build-lz4-wasm.sh: one legacy-format block at a time,
   compressed exactly as `lz4 -l -<level>` does (lz4io.c: LZ4_compress_fast with
   acceleration 1 below level 3, LZ4_compress_HC from 3 on), and decompressed. */
#include <stdlib.h>
#include "lz4.h"
#include "lz4hc.h"

__attribute__((export_name("fa_alloc"))) void *fa_alloc(unsigned size) { return malloc(size); }
__attribute__((export_name("fa_free"))) void fa_free(void *p) { free(p); }

__attribute__((export_name("fa_lz4_bound"))) int fa_lz4_bound(int size) { return LZ4_compressBound(size); }

/* Returns the compressed size, or 0 when it does not fit. */
__attribute__((export_name("fa_lz4_compress")))
int fa_lz4_compress(int level, const char *in, int in_len, char *out, int out_cap)
{
	return level < 3 ? LZ4_compress_fast(in, out, in_len, out_cap, 1) : LZ4_compress_HC(in, out, in_len, out_cap, level);
}

/* Returns the decompressed size, or a negative number on corrupt data. */
__attribute__((export_name("fa_lz4_decompress")))
int fa_lz4_decompress(const char *in, int in_len, char *out, int out_cap)
{
	return LZ4_decompress_safe(in, out, in_len, out_cap);
}
