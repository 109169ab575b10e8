// contribute_worker: one worker of a sweep, as a cluster job runs it
// (tests/experiment/collect_test.cpp starts many at once). It records RUNS
// runs of EXPERIMENT in its own store and contributes them to the
// registry repository HOST/REPO as worker WORKER (sealrun::contribute).
//
//   contribute_worker STORE HOST/REPO EXPERIMENT WORKER RUNS ATTEMPT
//
// Each run has parameters worker, local and attempt, a result.json with a
// loss, and data.bin (4 KiB unique to worker, run and attempt). Prints one
// contribution tag per line; exits 0, or 1 with the error on stderr.
#include <cstdio>
#include <iostream>
#include <string>

#include "sealrun/codecs/bytes.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/error.h"
#include "sealrun/experiment/collect.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/records/record.h"
#include "sealrun/remote/repository.h"

int main(int argc, char** argv) {
    if (argc != 7) {
        std::cerr << "usage: contribute_worker STORE HOST/REPO EXPERIMENT WORKER RUNS ATTEMPT\n";
        return 2;
    }
    try {
        using namespace sealrun;
        const std::string worker = argv[4];
        const int runs = std::stoi(argv[5]);
        const int attempt = std::stoi(argv[6]);
        RecordStore store(argv[1]);
        Experiment exp(store, argv[3]);
        for (int i = 0; i < runs; ++i) {
            exp.run([&](Run& r) {
                r.log_parameter("worker", worker);
                r.log_parameter("local", i);
                r.log_parameter("attempt", attempt);
                r.save_file("result.json", nlohmann::json{{"loss", 1.0 / (1 + i + static_cast<int>(worker.size()))}});
                std::string data;
                for (int k = 0; data.size() < 4096; ++k) data += worker + "/" + std::to_string(i) + "/" + std::to_string(attempt) + "/" + std::to_string(k) + "\n";
                r.save_file("data.bin", codecs::Bytes{data}, "application/octet-stream");
            });
        }
        content::OciLayout local(store.root());
        remote::RepositoryOptions options;
        options.docker_config = "/nonexistent/config.json";
        remote::Repository repo(remote::Reference::parse(argv[2]), options);
        for (const auto& c : contribute(exp, local, repo, worker)) std::cout << c.tag << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "contribute_worker: " << e.what() << "\n";
        return 1;
    }
}
