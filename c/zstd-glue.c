/* fledge-action's entry points into Debian's libzstd 1.5.4, compiled to
   WebAssembly by scripts/build-zstd-wasm.sh.

   Compression: one single-threaded streaming context per worker, as
   `zstd --single-thread -L` drives it (checksum on, content size unknown),
   fed in pieces; the bytes do not depend on how the input is cut.
   Decompression: one streaming context, for reading archives back. */
#include <stdlib.h>
#define ZSTD_STATIC_LINKING_ONLY
#include "zstd.h"

static ZSTD_CCtx *cctx;
static ZSTD_DCtx *dctx;

__attribute__((export_name("fa_alloc"))) void *fa_alloc(unsigned size) { return malloc(size); }
__attribute__((export_name("fa_free"))) void fa_free(void *p) { free(p); }

/* Output room that always suffices for one fa_zstd_compress call of in_len bytes:
   what is buffered from earlier calls (under one block) plus this input, plus the epilogue. */
__attribute__((export_name("fa_zstd_out_bound")))
unsigned fa_zstd_out_bound(unsigned in_len) { return (unsigned)ZSTD_compressBound(in_len + ZSTD_BLOCKSIZE_MAX) + 64; }

__attribute__((export_name("fa_zstd_begin")))
int fa_zstd_begin(int level)
{
	if (!cctx) cctx = ZSTD_createCCtx();
	if (!cctx) return -1;
	if (ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters))) return -2;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))) return -3;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1))) return -4;
	return 0;
}

/* Returns the bytes written to out, or a negative error. Like the zstd CLI
   reading a pipe, all input goes in with ZSTD_e_continue and the frame is
   ended with no input: when the input is a multiple of the block size, that
   ends it with an empty last block, as `zstd` does, instead of flagging the
   last full block. */
__attribute__((export_name("fa_zstd_compress")))
int fa_zstd_compress(const void *in, unsigned in_len, int end, void *out, unsigned out_cap)
{
	ZSTD_inBuffer input = { in, in_len, 0 };
	ZSTD_outBuffer output = { out, out_cap, 0 };
	while (input.pos < input.size) {
		if (ZSTD_isError(ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_continue))) return -1;
		if (input.pos < input.size && output.pos == output.size) return -2;
	}
	if (end) {
		ZSTD_inBuffer none = { in, 0, 0 };
		for (;;) {
			size_t left = ZSTD_compressStream2(cctx, &output, &none, ZSTD_e_end);
			if (ZSTD_isError(left)) return -1;
			if (left == 0) break;
			if (output.pos == output.size) return -2;
		}
	}
	return (int)output.pos;
}

__attribute__((export_name("fa_zstd_decompress_begin")))
int fa_zstd_decompress_begin(void)
{
	if (!dctx) dctx = ZSTD_createDCtx();
	if (!dctx) return -1;
	if (ZSTD_isError(ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters))) return -2;
	return 0;
}

static unsigned consumed;
__attribute__((export_name("fa_zstd_consumed"))) unsigned fa_zstd_consumed(void) { return consumed; }

/* Decompresses from in into out until one of them is used up; returns the bytes
   written (fa_zstd_consumed() tells how much input was read), or -1 on corrupt data. */
__attribute__((export_name("fa_zstd_decompress")))
int fa_zstd_decompress(const void *in, unsigned in_len, void *out, unsigned out_cap)
{
	ZSTD_inBuffer input = { in, in_len, 0 };
	ZSTD_outBuffer output = { out, out_cap, 0 };
	while (input.pos < input.size && output.pos < output.size) {
		size_t status = ZSTD_decompressStream(dctx, &output, &input);
		if (ZSTD_isError(status)) return -1;
	}
	consumed = (unsigned)input.pos;
	return (int)output.pos;
}
