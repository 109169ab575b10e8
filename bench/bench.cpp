// sealrun-bench: the sealrun side of bench/run.sh. It pushes and pulls
// sealed experiments between a local OCI layout and a registry with
// content::copy (what `sealrun push` / `sealrun pull` do), prints the
// elapsed wall-clock seconds, and makes the content the benchmark moves.
//
//   sealrun-bench push LAYOUT TAG REF   [--profile] [diagnostics]
//   sealrun-bench pull REF LAYOUT TAG   [--profile] [diagnostics]
//   sealrun-bench make-large LAYOUT TAG SIZE_MIB
//   sealrun-bench make-small LAYOUT TAG N
//   sealrun-bench make-runs LAYOUT TAG N
//   sealrun-bench largest-blob LAYOUT TAG
//   sealrun-bench make-sweep LAYOUT TAG N
//   sealrun-bench make-npy LAYOUT TAG SIZE_MIB
//   sealrun-bench params LOCATION [--store DIR] [--reps N]
//   sealrun-bench attachment LOCATION RUN NAME [--store DIR] [--reps N]
//   sealrun-bench read-floor LOCATION RUN NAME [--store DIR] [--reps N]
//   sealrun-bench seal STORE FILE [--no-share]   (bench/seal.sh, issue 15)
//
// push and pull print one line on stdout: the elapsed seconds of the copy
// (opening the layout and the repository included, process start-up not).
// --profile adds a breakdown to stderr: time spent inside each Target call
// of the source and the destination, and inside the source streams' reads,
// summed over the copy's threads. The diagnostics change one library
// option each, to see what it costs; the benchmark's timed runs use none:
//   --concurrency N   CopyOptions::concurrency (default 0 = the library's 4)
//   --no-fsync        OciLayoutOptions::skip_fsync
//   --chunk-mib N     RepositoryOptions::chunk_size (default 16 MiB)
// largest-blob prints "DIGEST SIZE PATH" of the largest layer of the
// experiment TAG names (the blob raw curl moves).
//
// make-sweep, make-npy, params and attachment are the C++ side of
// bench/python_bench.py (issue 13): make-sweep seals N runs with five
// parameters each, make-npy one run with a float64 array of SIZE_MIB MiB as
// "a.npy"; params times opening LOCATION (any CLI location; --store is the
// local store a bare tag names) and building its ParameterTable, attachment
// the reading of one attachment, both in-process, N repetitions
// (default 5), one line per repetition on stdout (see cmd_params);
// read-floor reads the same attachment's verified stream into three kinds
// of memory, to show what the buffer costs (see cmd_read_floor).
//
// REF is host[:port]/repository[:tag]; a loopback registry is reached over
// plain HTTP automatically. Nothing here is a test: it only measures.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sealrun/content/copy.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/codecs/npy.h>
#include <sealrun/error.h>
#include <sealrun/experiment/experiment.h>
#include <sealrun/experiment/sealed.h>
#include <sealrun/location/location.h>
#include <sealrun/oci/manifest.h>
#include <sealrun/records/record.h>
#include <sealrun/remote/reference.h>
#include <sealrun/remote/repository.h>

#include <sys/mman.h>
#include <sys/stat.h>

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------- profiling

// Stats sums the wall time spent inside calls, per call kind, over threads.
class Stats {
public:
    void add(const std::string& what, double secs, std::uint64_t bytes = 0) {
        std::lock_guard lock(mu_);
        auto& e = entries_[what];
        ++e.calls;
        e.secs += secs;
        e.bytes += bytes;
    }
    void print(std::ostream& os, const std::string& title) const {
        std::lock_guard lock(mu_);
        for (const auto& [k, e] : entries_) {
            char line[256];
            std::snprintf(line, sizeof line, "  %-6s %-14s calls %7llu  %9.3f s", title.c_str(), k.c_str(),
                          static_cast<unsigned long long>(e.calls), e.secs);
            os << line;
            if (e.bytes > 0) {
                std::snprintf(line, sizeof line, "  %8.1f MiB", static_cast<double>(e.bytes) / (1 << 20));
                os << line;
            }
            os << "\n";
        }
    }

private:
    struct Entry {
        std::uint64_t calls = 0;
        double secs = 0;
        std::uint64_t bytes = 0;
    };
    mutable std::mutex mu_;
    std::map<std::string, Entry> entries_;
};

// TimedStream times the reads of the stream it wraps (for a source stream:
// reading the file or the network, plus the source's digest check).
class TimedStream final : public content::ReadStream {
public:
    TimedStream(std::unique_ptr<content::ReadStream> inner, Stats& stats) : inner_(std::move(inner)), stats_(stats) {}
    ~TimedStream() override { stats_.add("stream.read", secs_, bytes_); }
    std::size_t read(std::span<std::byte> buffer) override {
        const auto t0 = Clock::now();
        const auto n = inner_->read(buffer);
        secs_ += seconds_since(t0);
        bytes_ += n;
        return n;
    }

private:
    std::unique_ptr<content::ReadStream> inner_;
    Stats& stats_;
    double secs_ = 0;
    std::uint64_t bytes_ = 0;
};

// TimedTarget forwards to a Target and records how long each call took.
class TimedTarget final : public content::Target {
public:
    TimedTarget(content::Target& inner, Stats& stats) : inner_(inner), stats_(stats) {}

    template <class F>
    auto timed(const char* what, F&& f) {
        const auto t0 = Clock::now();
        auto r = f();
        stats_.add(what, seconds_since(t0));
        return r;
    }

    oci::Descriptor resolve(std::string_view reference) override {
        return timed("resolve", [&] { return inner_.resolve(reference); });
    }
    bool exists(const oci::Descriptor& desc) override {
        return timed("exists", [&] { return inner_.exists(desc); });
    }
protected:
    // The wrapped target's fetch verifies, and so does this one's seam: the
    // profile counts the content hashed twice.
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& desc) override {
        auto s = timed("fetch(open)", [&] { return inner_.fetch(desc); });
        return std::make_unique<TimedStream>(std::move(s), stats_);
    }
public:
    void push(const oci::Descriptor& desc, content::ReadStream& content) override {
        const auto t0 = Clock::now();
        inner_.push(desc, content);
        stats_.add(desc.size >= (1 << 20) ? "push(large)" : "push(small)", seconds_since(t0),
                   static_cast<std::uint64_t>(desc.size));
    }
    void tag(const oci::Descriptor& desc, std::string_view reference) override {
        timed("tag", [&] {
            inner_.tag(desc, reference);
            return 0;
        });
    }
    std::vector<std::string> tags() override {
        return timed("tags", [&] { return inner_.tags(); });
    }

private:
    content::Target& inner_;
    Stats& stats_;
};

// ------------------------------------------------------------------ options

struct Options {
    std::vector<std::string> positional;
    std::size_t concurrency = 0;
    bool profile = false;
    bool no_fsync = false;
    std::size_t chunk_mib = 0;
    std::size_t reps = 5;
    std::string store;
};

Options parse(int argc, char** argv, int first) {
    Options o;
    for (int i = first; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--concurrency" && i + 1 < argc) o.concurrency = std::stoul(argv[++i]);
        else if (a == "--profile") o.profile = true;
        else if (a == "--no-fsync") o.no_fsync = true;
        else if (a == "--chunk-mib" && i + 1 < argc) o.chunk_mib = std::stoul(argv[++i]);
        else if (a == "--reps" && i + 1 < argc) o.reps = std::stoul(argv[++i]);
        else if (a == "--store" && i + 1 < argc) o.store = argv[++i];
        else if (a.starts_with("--")) throw UsageError("unknown option " + a);
        else o.positional.push_back(a);
    }
    return o;
}

void need(const Options& o, std::size_t n, const char* usage) {
    if (o.positional.size() != n) throw UsageError(std::string("usage: sealrun-bench ") + usage);
}

// ------------------------------------------------------------- push / pull

enum class Direction { push, pull };

int cmd_copy(const Options& o, Direction dir) {
    // push LAYOUT TAG REF  |  pull REF LAYOUT TAG
    const auto& layout_dir = dir == Direction::push ? o.positional[0] : o.positional[1];
    const auto& layout_tag = dir == Direction::push ? o.positional[1] : o.positional[2];
    const auto& ref_text = dir == Direction::push ? o.positional[2] : o.positional[0];

    const auto t0 = Clock::now();
    const auto ref = remote::Reference::parse(ref_text);
    remote::RepositoryOptions ropts;
    if (o.chunk_mib > 0) ropts.chunk_size = o.chunk_mib << 20;
    remote::Repository repo(ref, ropts);
    content::OciLayout layout(layout_dir, content::OciLayoutOptions{.skip_fsync = o.no_fsync});
    const std::string remote_ref = ref.reference().empty() ? layout_tag : ref.reference();

    Stats src_stats, dst_stats;
    std::unique_ptr<TimedTarget> timed_layout, timed_repo;
    content::Target* layout_t = &layout;
    content::Target* repo_t = &repo;
    if (o.profile) {
        auto& ls = dir == Direction::push ? src_stats : dst_stats;
        auto& rs = dir == Direction::push ? dst_stats : src_stats;
        timed_layout = std::make_unique<TimedTarget>(layout, ls);
        timed_repo = std::make_unique<TimedTarget>(repo, rs);
        layout_t = timed_layout.get();
        repo_t = timed_repo.get();
    }

    std::atomic<std::size_t> copied{0}, skipped{0};
    std::mutex first_mu;
    double first_copied = -1;
    content::CopyOptions copts{
        .concurrency = o.concurrency,
        .on_skipped = [&](const oci::Descriptor&) { ++skipped; },
        .on_copied =
            [&](const oci::Descriptor&) {
                if (++copied == 1) {
                    std::lock_guard lock(first_mu);
                    first_copied = seconds_since(t0);
                }
            },
    };
    oci::Descriptor root;
    if (dir == Direction::push) root = content::copy(*layout_t, layout_tag, *repo_t, remote_ref, copts);
    else root = content::copy(*repo_t, remote_ref, *layout_t, layout_tag, copts);
    const double elapsed = seconds_since(t0);

    std::printf("%.3f\n", elapsed);
    std::fflush(stdout);
    std::cerr << (dir == Direction::push ? "push " : "pull ") << root.digest.str() << ": " << copied.load()
              << " copied, " << skipped.load() << " skipped, " << elapsed << " s\n";
    if (o.profile) {
        std::cerr << "  first node copied after " << first_copied << " s\n";
        src_stats.print(std::cerr, "src");
        dst_stats.print(std::cerr, "dst");
    }
    return 0;
}

// -------------------------------------------------------------- make content

// fill_random fills `buf` with incompressible bytes (splitmix64), fast.
void fill_random(std::vector<char>& buf, std::uint64_t& state) {
    auto* p = reinterpret_cast<unsigned char*>(buf.data());
    std::size_t i = 0;
    for (; i + 8 <= buf.size(); i += 8) {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        std::memcpy(p + i, &z, 8);
    }
    for (; i < buf.size(); ++i) p[i] = static_cast<unsigned char>(state++ * 131);
}

std::uint64_t seed() { return std::random_device{}() * 0x100000001B3ULL ^ std::random_device{}(); }

// with_runs records runs with `record` into a throw-away record store next
// to the layout, seals them into the layout under `tag` and removes the
// records.
void with_runs(const fs::path& layout_dir, const std::string& tag, const std::string& name,
               const std::function<void(Experiment&)>& record) {
    const fs::path scratch = layout_dir.string() + ".records";
    fs::remove_all(scratch);
    {
        RecordStore store(scratch, CodecRegistry::global(), RecordStoreOptions{.skip_fsync = true});
        Experiment exp(store, name);
        record(exp);
        content::OciLayout layout(layout_dir, content::OciLayoutOptions{.skip_fsync = true});
        const auto root = exp.commit(layout, tag);
        std::cerr << "sealed " << name << " into " << layout_dir.string() << ":" << tag << " (" << root.digest.str()
                  << ")\n";
    }
    fs::remove_all(scratch);
}

// with_experiment seals one run recorded by `body` (see with_runs).
void with_experiment(const fs::path& layout_dir, const std::string& tag, const std::string& name,
                     const std::function<void(Run&)>& body) {
    with_runs(layout_dir, tag, name, [&](Experiment& exp) { exp.run(body); });
}

int cmd_make_large(const Options& o) {
    need(o, 3, "make-large LAYOUT TAG SIZE_MIB");
    const fs::path layout_dir = o.positional[0];
    const std::uint64_t mib = std::stoull(o.positional[2]);
    const fs::path data = layout_dir.string() + ".data.bin";
    {
        std::ofstream out(data, std::ios::binary | std::ios::trunc);
        std::vector<char> buf(1 << 20);
        std::uint64_t state = seed();
        for (std::uint64_t i = 0; i < mib; ++i) {
            fill_random(buf, state);
            out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        }
        if (!out.flush()) throw std::runtime_error("cannot write " + data.string());
    }
    with_experiment(layout_dir, o.positional[1], "bench-large", [&](Run& run) {
        run.log_parameter("size_mib", static_cast<std::int64_t>(mib));
        run.import_file("data.bin", data);
    });
    fs::remove(data);
    return 0;
}

// ----------------------------------------------------------------- seal

// disk_bytes is the storage the regular files under `root` hold, each inode
// counted once (st_blocks: what the file system allocated).
std::uint64_t disk_bytes(const fs::path& root) {
    std::vector<std::pair<dev_t, ino_t>> seen;
    std::uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
        if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
        seen.push_back(id);
        total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    return total;
}

// seal STORE FILE [--no-share]: records FILE into a one-run experiment of
// the store STORE (import_file: untimed, the recording), then times
// Experiment::commit into the store's own layout, the seal. Prints
// "SECONDS DISK_BYTES FILE_BYTES": the seal's wall-clock seconds and the
// storage of the whole store (records and layout, each inode once).
// --no-share seals into a layout with OciLayoutOptions::share_files off (the
// one-copy fallback) at STORE/copied instead.
int cmd_seal(const Options& o, bool no_share) {
    need(o, 2, "seal STORE FILE [--no-share]");
    const fs::path store_dir = o.positional[0];
    const fs::path file = o.positional[1];
    RecordStore store(store_dir);
    Experiment exp(store, "bench-seal");
    exp.run([&](Run& run) { run.import_file("data.bin", file); });
    const auto t0 = Clock::now();
    if (no_share) {
        content::OciLayout layout(store_dir / "copied", content::OciLayoutOptions{.share_files = false});
        exp.commit(layout, "v1");
    } else {
        exp.commit("v1");
    }
    const auto secs = seconds_since(t0);
    std::printf("%.3f %llu %llu\n", secs, static_cast<unsigned long long>(disk_bytes(store_dir)),
                static_cast<unsigned long long>(fs::file_size(file)));
    return 0;
}

int cmd_make_small(const Options& o) {
    need(o, 3, "make-small LAYOUT TAG N");
    const fs::path layout_dir = o.positional[0];
    const std::uint64_t n = std::stoull(o.positional[2]);
    std::uint64_t state = seed();
    with_experiment(layout_dir, o.positional[1], "bench-small", [&](Run& run) {
        run.log_parameter("attachments", static_cast<std::int64_t>(n));
        std::vector<char> buf(48);
        for (std::uint64_t i = 0; i < n; ++i) {
            fill_random(buf, state);
            // ~100 bytes of distinct text: each attachment is its own blob.
            std::string text = "attachment " + std::to_string(i) + " ";
            static constexpr char hex[] = "0123456789abcdef";
            for (char c : buf) {
                text += hex[(static_cast<unsigned char>(c) >> 4) & 15];
                text += hex[static_cast<unsigned char>(c) & 15];
            }
            text.resize(100, '.');
            char name[32];
            std::snprintf(name, sizeof name, "att/%05llu.txt", static_cast<unsigned long long>(i));
            run.save_file(name, text);
        }
    });
    return 0;
}

// make-runs seals N runs of two small files each (a result.json and a
// log.txt, both distinct per run): the many-small-manifests case, a sweep.
int cmd_make_runs(const Options& o) {
    need(o, 3, "make-runs LAYOUT TAG N");
    const std::uint64_t n = std::stoull(o.positional[2]);
    const std::uint64_t salt = seed();
    with_runs(o.positional[0], o.positional[1], "bench-runs", [&](Experiment& exp) {
        for (std::uint64_t i = 0; i < n; ++i) {
            Run& run = exp.run();
            run.log_parameter("seed", static_cast<std::int64_t>(i));
            run.save_file("result.json", nlohmann::json{{"seed", i}, {"salt", salt}, {"loss", 1.0 / double(i + 1)}});
            run.save_file("log.txt", "run " + std::to_string(i) + " of " + std::to_string(salt) + "\n");
            run.finish();
        }
    });
    return 0;
}

int cmd_largest_blob(const Options& o) {
    need(o, 2, "largest-blob LAYOUT TAG");
    content::OciLayout layout(o.positional[0]);
    std::vector<oci::Descriptor> todo{layout.resolve(o.positional[1])};
    std::optional<oci::Descriptor> best;
    while (!todo.empty()) {
        auto d = todo.back();
        todo.pop_back();
        if (oci::is_manifest_type(d.media_type) || oci::is_index_type(d.media_type)) {
            for (auto& c : oci::successors(d, content::read_all(layout, d, oci::max_manifest_size))) todo.push_back(c);
        } else if (!best || d.size > best->size) {
            best = d;
        }
    }
    if (!best) throw std::runtime_error("no blob under " + o.positional[1]);
    std::printf("%s %lld %s\n", best->digest.str().c_str(), static_cast<long long>(best->size),
                layout.blob_path(best->digest).c_str());
    return 0;
}

// make-sweep seals N runs shaped like a parameter sweep: five parameters of
// all four kinds (two integers, a float, text, a bool) and one small
// result.json per run.
int cmd_make_sweep(const Options& o) {
    need(o, 3, "make-sweep LAYOUT TAG N");
    const std::uint64_t n = std::stoull(o.positional[2]);
    static constexpr const char* optimizers[] = {"sgd", "adam", "lbfgs"};
    with_runs(o.positional[0], o.positional[1], "bench-sweep", [&](Experiment& exp) {
        for (std::uint64_t i = 0; i < n; ++i) {
            Run& run = exp.run();
            run.log_parameter("seed", static_cast<std::int64_t>(i));
            run.log_parameter("batch", static_cast<std::int64_t>(16 << (i % 4)));
            run.log_parameter("lr", 1e-4 * static_cast<double>(1 + i % 10));
            run.log_parameter("optimizer", optimizers[i % 3]);
            run.log_parameter("augment", i % 2 == 0);
            run.save_file("result.json", nlohmann::json{{"seed", i}, {"loss", 1.0 / double(i + 1)}});
            run.finish();
        }
    });
    return 0;
}

// make-npy seals one run whose attachment "a.npy" is a C-order float64
// array of SIZE_MIB MiB (shape [SIZE_MIB * 1024, 128]) of random bits.
int cmd_make_npy(const Options& o) {
    need(o, 3, "make-npy LAYOUT TAG SIZE_MIB");
    const std::uint64_t mib = std::stoull(o.positional[2]);
    codecs::NdArray a{.dtype = codecs::DType::float64, .byte_order = std::endian::native, .shape = {mib * 1024, 128}};
    {
        std::vector<char> buf(mib << 20);
        std::uint64_t state = seed();
        fill_random(buf, state);
        // Random bits include NaNs and infinities; keep every double finite
        // by clearing the top exponent bit (values stay random, all finite).
        for (std::size_t i = 7; i < buf.size(); i += 8) buf[i] = static_cast<char>(buf[i] & 0xBF);
        a.data.assign(buf.data(), buf.size());
    }
    with_experiment(o.positional[0], o.positional[1], "bench-npy", [&](Run& run) {
        run.log_parameter("size_mib", static_cast<std::int64_t>(mib));
        run.save_file("a.npy", a);
    });
    return 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

LocationOptions location_options(const Options& o) {
    LocationOptions lo;
    if (!o.store.empty()) lo.store = o.store;
    return lo;
}

// params: what sealrun.open(LOCATION).parameters() does, in C++. Each
// repetition opens the location afresh (open_location), opens the
// experiment (its index) and builds the ParameterTable (every run manifest
// and config read and verified). Prints per repetition
//   params REP TOTAL_S OPEN_S TABLE_S RUNS COLUMNS
// and a last line "params median TOTAL_S OPEN_S TABLE_S RUNS COLUMNS".
int cmd_params(const Options& o) {
    need(o, 1, "params LOCATION [--store DIR] [--reps N]");
    const auto lo = location_options(o);
    std::vector<double> total, open, table;
    std::size_t runs = 0, columns = 0;
    for (std::size_t rep = 0; rep < std::max<std::size_t>(o.reps, 1); ++rep) {
        const auto t0 = Clock::now();
        auto loc = open_location(o.positional[0], lo, false);
        const auto exp = SealedExperiment::open(*loc.target, loc.reference);
        const double t_open = seconds_since(t0);
        const auto t1 = Clock::now();
        const auto t = exp.parameters();
        const double t_table = seconds_since(t1);
        const double t_total = seconds_since(t0);
        runs = t.run_ids.size();
        columns = t.columns.size();
        total.push_back(t_total);
        open.push_back(t_open);
        table.push_back(t_table);
        std::printf("params %zu %.6f %.6f %.6f %zu %zu\n", rep, t_total, t_open, t_table, runs, columns);
    }
    std::printf("params median %.6f %.6f %.6f %zu %zu\n", median(total), median(open), median(table), runs, columns);
    return 0;
}

// attachment: what SealedRun::get_attachment (decode to the codec's value,
// an NdArray for .npy) and get_blob (the verified bytes) cost in C++, the
// run opened once. Prints per repetition
//   attachment REP DECODE_S BLOB_S BYTES
// and a last line "attachment median DECODE_S BLOB_S BYTES".
int cmd_attachment(const Options& o) {
    need(o, 3, "attachment LOCATION RUN NAME [--store DIR] [--reps N]");
    auto loc = open_location(o.positional[0], location_options(o), false);
    const auto exp = SealedExperiment::open(*loc.target, loc.reference);
    const auto run = exp.run(std::stoll(o.positional[1]));
    const std::string& name = o.positional[2];
    std::vector<double> decode, blob;
    std::size_t bytes = 0;
    for (std::size_t rep = 0; rep < std::max<std::size_t>(o.reps, 1); ++rep) {
        auto t0 = Clock::now();
        {
            const auto v = run.get_attachment(name);
            if (v.is<codecs::NdArray>()) bytes = v.as<codecs::NdArray>().data.size();
        }
        const double t_decode = seconds_since(t0);
        t0 = Clock::now();
        bytes = std::max(bytes, run.get_blob(name).size());
        const double t_blob = seconds_since(t0);
        decode.push_back(t_decode);
        blob.push_back(t_blob);
        std::printf("attachment %zu %.6f %.6f %zu\n", rep, t_decode, t_blob, bytes);
    }
    std::printf("attachment median %.6f %.6f %zu\n", median(decode), median(blob), bytes);
    return 0;
}

// read-floor: where get_blob's time goes. Each repetition drains the
// attachment's verifying stream (target.fetch: read plus SHA-256, the only
// way content is read) three ways and prints
//   read-floor REP READ_ALL_S RESERVED_S HUGEPAGE_S BYTES
// READ_ALL is content::read_all (what get_blob does; since 78352ae one
// string of the verified size, before it a string grown from empty),
// RESERVED a string of the descriptor's size read into in 1 MiB pieces
// here (the same thing done by hand), HUGEPAGE the same into
// an anonymous mapping advised MADV_HUGEPAGE (as numpy's own allocations
// of 4 MiB and more are). Last line: "read-floor median ...".
int cmd_read_floor(const Options& o) {
    need(o, 3, "read-floor LOCATION RUN NAME [--store DIR] [--reps N]");
    auto loc = open_location(o.positional[0], location_options(o), false);
    const auto exp = SealedExperiment::open(*loc.target, loc.reference);
    const auto run = exp.run(std::stoll(o.positional[1]));
    const oci::Descriptor d = run.attachments().descriptor(o.positional[2]);
    const auto size = static_cast<std::size_t>(d.size);
    const auto drain = [&](std::byte* out) {
        const auto in = loc.target->fetch(d);
        std::size_t pos = 0;
        while (pos < size) {
            const auto n = in->read(std::span(out + pos, std::min<std::size_t>(size - pos, 1 << 20)));
            if (n == 0) break;
            pos += n;
        }
        // The stream proves the content only on the read that sees its end.
        std::byte extra[1];
        if (in->read(extra) != 0 || pos != size) throw std::runtime_error("short or long read");
    };
    std::vector<double> all, reserved, huge;
    for (std::size_t rep = 0; rep < std::max<std::size_t>(o.reps, 1); ++rep) {
        auto t0 = Clock::now();
        if (content::read_all(*loc.target, d, max_attachment_read).size() != size) throw std::runtime_error("size");
        all.push_back(seconds_since(t0));
        t0 = Clock::now();
        {
            std::string s;
            s.resize(size);  // what reserve(size) + appends would touch
            drain(reinterpret_cast<std::byte*>(s.data()));
        }
        reserved.push_back(seconds_since(t0));
        t0 = Clock::now();
        {
            const std::size_t len = (size + (std::size_t{2} << 20)) & ~((std::size_t{2} << 20) - 1);
            void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) throw std::runtime_error("mmap");
            ::madvise(p, len, MADV_HUGEPAGE);
            try {
                drain(static_cast<std::byte*>(p));
            } catch (...) {
                ::munmap(p, len);
                throw;
            }
            ::munmap(p, len);
        }
        huge.push_back(seconds_since(t0));
        std::printf("read-floor %zu %.6f %.6f %.6f %zu\n", rep, all.back(), reserved.back(), huge.back(), size);
    }
    std::printf("read-floor median %.6f %.6f %.6f %zu\n", median(all), median(reserved), median(huge), size);
    return 0;
}

constexpr const char* usage =
    "usage: sealrun-bench push LAYOUT TAG REF [--profile] [DIAGNOSTICS]\n"
    "       sealrun-bench pull REF LAYOUT TAG [--profile] [DIAGNOSTICS]\n"
    "       sealrun-bench make-large LAYOUT TAG SIZE_MIB\n"
    "       sealrun-bench make-small LAYOUT TAG N\n"
    "       sealrun-bench make-runs LAYOUT TAG N\n"
    "       sealrun-bench largest-blob LAYOUT TAG\n"
    "       sealrun-bench make-sweep LAYOUT TAG N\n"
    "       sealrun-bench make-npy LAYOUT TAG SIZE_MIB\n"
    "       sealrun-bench params LOCATION [--store DIR] [--reps N]\n"
    "       sealrun-bench attachment LOCATION RUN NAME [--store DIR] [--reps N]\n"
    "       sealrun-bench read-floor LOCATION RUN NAME [--store DIR] [--reps N]\n"
    "       sealrun-bench seal STORE FILE [--no-share]\n"
    "diagnostics: --concurrency N, --no-fsync, --chunk-mib N\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << usage;
        return 2;
    }
    const std::string cmd = argv[1];
    try {
        if (cmd == "seal") {
            // --no-share is seal's own option, not one of parse()'s.
            std::vector<char*> rest;
            bool no_share = false;
            for (int i = 0; i < argc; ++i) {
                if (i >= 2 && std::string_view(argv[i]) == "--no-share") no_share = true;
                else rest.push_back(argv[i]);
            }
            return cmd_seal(parse(static_cast<int>(rest.size()), rest.data(), 2), no_share);
        }
        const auto o = parse(argc, argv, 2);
        if (cmd == "push") {
            need(o, 3, "push LAYOUT TAG REF");
            return cmd_copy(o, Direction::push);
        }
        if (cmd == "pull") {
            need(o, 3, "pull REF LAYOUT TAG");
            return cmd_copy(o, Direction::pull);
        }
        if (cmd == "make-large") return cmd_make_large(o);
        if (cmd == "make-small") return cmd_make_small(o);
        if (cmd == "make-runs") return cmd_make_runs(o);
        if (cmd == "largest-blob") return cmd_largest_blob(o);
        if (cmd == "make-sweep") return cmd_make_sweep(o);
        if (cmd == "make-npy") return cmd_make_npy(o);
        if (cmd == "params") return cmd_params(o);
        if (cmd == "attachment") return cmd_attachment(o);
        if (cmd == "read-floor") return cmd_read_floor(o);
        std::cerr << usage;
        return 2;
    } catch (const UsageError& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "sealrun-bench " << cmd << ": " << e.what() << "\n";
        return 1;
    }
}
