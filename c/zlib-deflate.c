/* fledge-action's entry points into stock zlib, compiled to WebAssembly by
   scripts/build-zlib-wasm.sh: one raw-deflate stream per worker, reset for
   every block, primed with a dictionary, then sync-flushed or finished. */
#include <stdlib.h>
#include "zlib.h"

static z_stream stream;
static int stream_level = -1;

__attribute__((export_name("fa_alloc"))) void *fa_alloc(unsigned size) { return malloc(size); }
__attribute__((export_name("fa_free"))) void fa_free(void *p) { free(p); }

/* Returns the number of bytes written to out, or a negative zlib error. */
__attribute__((export_name("fa_deflate_block")))
int fa_deflate_block(int level, const unsigned char *in, unsigned in_len,
                     const unsigned char *dict, unsigned dict_len, int last,
                     unsigned char *out, unsigned out_cap)
{
	int status;
	if (stream_level != level) {
		if (stream_level != -1) deflateEnd(&stream);
		status = deflateInit2(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
		if (status != Z_OK) return status;
		stream_level = level;
	} else {
		status = deflateReset(&stream);
		if (status != Z_OK) return status;
	}
	if (dict_len > 0) {
		status = deflateSetDictionary(&stream, dict, dict_len);
		if (status != Z_OK) return status;
	}
	stream.next_in = (unsigned char *)in;
	stream.avail_in = in_len;
	stream.next_out = out;
	stream.avail_out = out_cap;
	status = deflate(&stream, last ? Z_FINISH : Z_SYNC_FLUSH);
	if (last ? status != Z_STREAM_END : (status != Z_OK || stream.avail_in != 0)) return status < 0 ? status : -100;
	return (int)(out_cap - stream.avail_out);
}
