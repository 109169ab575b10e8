#pragma once
// One deleter template and one unique_ptr alias per C resource; no C
// *_free / *_cleanup call appears outside this header.

#include <memory>

#include <openssl/evp.h>

namespace sealrun::util {

template <auto Fn>
struct Deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        if (p != nullptr) Fn(p);
    }
};

template <class T, auto Fn>
using Handle = std::unique_ptr<T, Deleter<Fn>>;

using EvpMdCtx = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;

}  // namespace sealrun::util
