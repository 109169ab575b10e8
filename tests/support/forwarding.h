#pragma once
// Test support: a Target that forwards everything to another one; tests
// derive from it to watch or count what passes. Its open_blob is the inner
// target's verified fetch (the seam verifies once more).

#include <atomic>

#include "sealrun/content/target.h"

namespace sealrun::test {

class ForwardingTarget : public content::Target {
public:
    explicit ForwardingTarget(content::Target& inner) : inner_(inner) {}
    oci::Descriptor resolve(std::string_view r) override { return inner_.resolve(r); }
    bool exists(const oci::Descriptor& d) override { return inner_.exists(d); }
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& d) override { return inner_.fetch(d); }
    void push(const oci::Descriptor& d, content::ReadStream& s) override { inner_.push(d, s); }
    void tag(const oci::Descriptor& d, std::string_view r) override { inner_.tag(d, r); }
    std::vector<std::string> tags() override { return inner_.tags(); }

protected:
    content::Target& inner_;
};

// CountingTarget counts what is fetched and pushed through it.
class CountingTarget final : public ForwardingTarget {
public:
    using ForwardingTarget::ForwardingTarget;
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& d) override {
        ++fetches;
        return inner_.fetch(d);
    }
    void push(const oci::Descriptor& d, content::ReadStream& s) override {
        ++pushes;
        inner_.push(d, s);
    }
    std::atomic<int> fetches{0}, pushes{0};
};

}  // namespace sealrun::test
