// A small parameter sweep recorded with sealrun: gradient descent on
// f(x, y) = (x - 3)^2 + 10 (y + 1)^2 for several learning rates. Each run
// saves its result (JSON), its loss curve (JSON lines) and its trajectory
// (a NumPy array); the largest learning rate diverges and the run fails.
// The experiment is sealed into the local store under a tag.
//
//   gd_sweep STORE TAG
#include <cmath>
#include <iostream>
#include <stdexcept>

#include <sealrun/codecs/npy.h>
#include <sealrun/error.h>
#include <sealrun/experiment/experiment.h>

using namespace sealrun;

namespace {

struct Point {
    double x, y;
};

double loss(Point p) { return (p.x - 3) * (p.x - 3) + 10 * (p.y + 1) * (p.y + 1); }

void descend(Run& run, double lr, int steps) {
    run.log_parameter("lr", lr);
    run.log_parameter("steps", steps);
    run.log_parameter("optimizer", "gd");
    Point p{0, 0};
    std::vector<double> path;
    run.save_file("start.json", {{"x", p.x}, {"y", p.y}});
    for (int i = 0; i < steps; ++i) {
        p = {p.x - lr * 2 * (p.x - 3), p.y - lr * 20 * (p.y + 1)};
        path.insert(path.end(), {p.x, p.y});
        run.append_jsonl("curve.jsonl", {{"step", i}, {"loss", loss(p)}});
        if (!std::isfinite(loss(p)) || loss(p) > 1e6) throw std::runtime_error("diverged at step " + std::to_string(i));
    }
    run.save_file("trajectory.npy", codecs::NdArray::from_values<double>({path.size() / 2, 2}, path));
    run.save_file("result.json", {{"x", p.x}, {"y", p.y}, {"loss", loss(p)}});
    run.log_solve({.input = "start.json", .output = "result.json", .adapter = "gradient-descent",
                   .adapter_options = {{"lr", lr}, {"steps", steps}}});
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: gd_sweep STORE TAG\n";
        return 2;
    }
    try {
        RecordStore store(argv[1]);
        Experiment exp(store, "gd-sweep");
        exp.annotate("org.opencontainers.image.description", "gradient descent, learning-rate sweep");
        for (double lr : {0.01, 0.03, 0.05, 0.12}) {
            try {
                exp.run([&](Run& run) { descend(run, lr, 60); });
            } catch (const std::runtime_error& e) {
                std::cout << "  run with lr=" << lr << " failed: " << e.what() << "\n";
            }
        }
        exp.attachments().save_file("sweep.json", {{"learning_rates", {0.01, 0.03, 0.05, 0.12}}, {"steps", 60}});
        const auto root = exp.commit(argv[2]);
        std::cout << "  sealed " << exp.runs().size() << " runs as " << argv[2] << " (" << root.digest.str() << ")\n";
    } catch (const Error& e) {
        std::cerr << "gd_sweep: " << e.what() << "\n";
        return 1;
    }
}
