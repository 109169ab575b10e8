// Empty: meson.build adds it to a unity build of libsealrun whose source count is a multiple of unity_size (a Meson 1.0 bug).
