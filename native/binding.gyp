{
  "targets": [
    {
      "target_name": "socket_write",
      "sources": ["socket_write.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
