/*
 * writeEach(fds, buffers, count, results): one send(2) per (fd, buffer) pair,
 * all in one call from JavaScript.
 *
 * Fan-out writes the same few hundred bytes to many sockets. Through Node's
 * streams every write costs a trip through the stream machinery, a write
 * request object and a callback; here it costs one system call. The caller
 * passes only descriptors of sockets that are open and have nothing queued
 * in Node (so bytes written here cannot overtake bytes queued there) and
 * sends whatever was not written through the socket's stream afterwards.
 *
 * results[i] receives the bytes written to fds[i] (possibly fewer than the
 * buffer holds, or 0), or -errno when send(2) failed. Never blocks: the
 * sockets are non-blocking and MSG_DONTWAIT makes sure of it. Malformed
 * arguments throw a TypeError before anything is written.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <node_api.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* Node ignores SIGPIPE; the flag only spares the signal. */
#endif

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static int int32_array(napi_env env, napi_value value, int32_t **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, (void **)data, &buffer, &offset) != napi_ok) return 0;
  return type == napi_int32_array;
}

static napi_value write_each(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    return fail(env, "writeEach(fds, buffers, count, results) takes four arguments");
  }
  int32_t *fds;
  int32_t *results;
  size_t fd_count;
  size_t result_count;
  uint32_t buffer_count;
  uint32_t count;
  bool is_array = false;
  if (!int32_array(env, argv[0], &fds, &fd_count)) return fail(env, "fds must be an Int32Array");
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) return fail(env, "buffers must be an array");
  if (napi_get_array_length(env, argv[1], &buffer_count) != napi_ok) return fail(env, "buffers must be an array");
  if (napi_get_value_uint32(env, argv[2], &count) != napi_ok) return fail(env, "count must be a number");
  if (!int32_array(env, argv[3], &results, &result_count)) return fail(env, "results must be an Int32Array");
  if (count > fd_count || count > buffer_count || count > result_count) return fail(env, "count exceeds an argument's length");

  /* Every buffer is checked before anything is sent: a bad argument throws
   * with nothing written, so the caller can send everything another way. */
  struct chunk {
    void *data;
    size_t length;
  } *chunks = count > 0 ? malloc(sizeof(struct chunk) * count) : NULL;
  if (count > 0 && chunks == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    /* napi_get_buffer_info refuses anything that is not a Buffer (or another Uint8Array view). */
    if (napi_get_element(env, argv[1], i, &element) != napi_ok ||
        napi_get_buffer_info(env, element, &chunks[i].data, &chunks[i].length) != napi_ok) {
      free(chunks);
      return fail(env, "every entry of buffers must be a Buffer");
    }
  }

  for (uint32_t i = 0; i < count; i++) {
    if (fds[i] < 0) {
      results[i] = -EBADF;
      continue;
    }
    ssize_t written;
    do {
      written = send(fds[i], chunks[i].data, chunks[i].length, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (written < 0 && errno == EINTR);
    if (written >= 0) results[i] = (int32_t)written;
    else results[i] = (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  }
  free(chunks);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "writeEach", NAPI_AUTO_LENGTH, write_each, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "writeEach", fn) != napi_ok) return NULL;
  return exports;
}
