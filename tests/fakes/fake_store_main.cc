// loyaltyd-fake-store: runs the fake platform APIs (tests/fakes) as a standalone program, so the
// README demo can issue real rewards without a real store.
//
// Each fake listens on its own port on 127.0.0.1 and prints the values to put into the shop's
// `api` section of the loyaltyd config. The fakes are listed in kFakes below, one entry per
// platform (each gets its own --<name>-port flag).
// Threads: main waits for SIGINT/SIGTERM; each fake serves on its own server thread.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "fakes/fake_shopify_admin.h"
#include "fakes/fake_woocommerce_rest.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// One fake platform: how to start it and what to tell the user about it.
struct RunningFake {
  std::function<void()> stop;
};

struct FakeEntry {
  const char* name;  // also the flag prefix: --<name>-port
  int default_port;
  // Starts the fake on `port`; returns false when it cannot. Prints its config on success.
  std::function<bool(int port, const std::vector<std::string>& customers, RunningFake* out)> start;
};

// "1001:alice@example.com" -> id, email.
bool SplitCustomer(const std::string& spec, std::string* id, std::string* email) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  *id = spec.substr(0, colon);
  *email = spec.substr(colon + 1);
  return true;
}

bool StartShopify(int port, const std::vector<std::string>& customers, RunningFake* out) {
  auto fake = std::make_shared<loyaltyd::fakes::FakeShopifyAdmin>();
  for (const std::string& spec : customers) {
    std::string id, email;
    if (SplitCustomer(spec, &id, &email)) fake->AddCustomer(id, email);
  }
  if (!fake->Start(port)) {
    std::fprintf(stderr, "shopify: cannot listen on 127.0.0.1:%d (in use?)\n", port);
    return false;
  }
  const auto& options = fake->options();
  std::printf(
      "shopify: fake Admin GraphQL API on %s\n"
      "  put into the shop's config:\n"
      "    \"api\": {\"base_url\": \"%s\", \"access_token\": \"%s\", \"api_version\": \"%s\"}\n"
      "  state:  curl %s/_fake/state\n"
      "  faults: curl -X POST %s/_fake/fault -d '{\"kind\":\"drop_after_apply\",\"count\":1}'\n",
      fake->base_url().c_str(), fake->base_url().c_str(), options.access_token.c_str(),
      options.api_versions[1].c_str(), fake->base_url().c_str(), fake->base_url().c_str());
  std::fflush(stdout);
  out->stop = [fake] { fake->Stop(); };
  return true;
}

bool StartWooCommerce(int port, const std::vector<std::string>& customers, RunningFake* out) {
  auto fake = std::make_shared<loyaltyd::fakes::FakeWooCommerceRest>();
  for (const std::string& spec : customers) {
    std::string id, email;
    if (SplitCustomer(spec, &id, &email))
      fake->AddCustomer(std::strtoll(id.c_str(), nullptr, 10), email);
  }
  if (!fake->Start(port)) {
    std::fprintf(stderr, "woocommerce: cannot listen on 127.0.0.1:%d (in use?)\n", port);
    return false;
  }
  const auto& options = fake->options();
  std::printf(
      "woocommerce: fake REST API (wc/v3) on %s\n"
      "  put into the shop's config:\n"
      "    \"api\": {\"base_url\": \"%s\", \"consumer_key\": \"%s\", \"consumer_secret\": \"%s\"}\n"
      "  coupons: curl -u %s:%s %s/wp-json/wc/v3/coupons\n"
      "  faults:  curl -X POST %s/_fake/woocommerce/fault -d "
      "'{\"kind\":\"http500\",\"count\":1}'\n",
      fake->base_url().c_str(), fake->base_url().c_str(), options.consumer_key.c_str(),
      options.consumer_secret.c_str(), options.consumer_key.c_str(),
      options.consumer_secret.c_str(), fake->base_url().c_str(), fake->base_url().c_str());
  std::fflush(stdout);
  out->stop = [fake] { fake->Stop(); };
  return true;
}

// The fakes this program runs. Add a platform here.
const std::vector<FakeEntry>& Fakes() {
  static const auto* kFakes = new std::vector<FakeEntry>{
      {"shopify", 8091, StartShopify},
      {"woocommerce", 8092, StartWooCommerce},
  };
  return *kFakes;
}

void PrintHelp() {
  std::printf(
      "usage: loyaltyd-fake-store [options]\n"
      "\n"
      "Runs fake e-commerce platform APIs on 127.0.0.1 for demos and manual testing.\n"
      "Nothing is persisted; state is lost on exit.\n"
      "\n"
      "options:\n");
  for (const FakeEntry& f : Fakes()) {
    const std::string flag = std::string("--") + f.name + "-port=N";
    std::printf("  %-22s port of the %s fake (default %d, 0 picks a free one)\n", flag.c_str(),
                f.name, f.default_port);
  }
  std::printf(
      "  --customer=ID:EMAIL    seed a customer (repeatable; default 7001:ada@example.com,\n"
      "                         the customer `loyaltyd trigger` sends by default)\n"
      "  --help                 this text\n"
      "\n"
      "Control endpoints (no auth), Shopify: POST /_fake/customers {\"id\",\"email\"},\n"
      "POST /_fake/fault {\"kind\":\"http500|http429|slow|drop_before_apply|drop_after_apply\",\n"
      "\"count\":N,\"retry_after_seconds\":S,\"delay_ms\":M}, POST /_fake/throttle\n"
      "{\"currently_available\":P}, GET /_fake/state. WooCommerce: the same under\n"
      "/_fake/woocommerce/customers and /_fake/woocommerce/fault.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> ports;
  for (const FakeEntry& f : Fakes()) ports.push_back(f.default_port);
  std::vector<std::string> customers;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintHelp();
      return 0;
    }
    bool known = false;
    for (size_t f = 0; f < Fakes().size(); ++f) {
      const std::string prefix = std::string("--") + Fakes()[f].name + "-port=";
      if (arg.rfind(prefix, 0) == 0) {
        char* end = nullptr;
        const long port = std::strtol(arg.c_str() + prefix.size(), &end, 10);
        if (*end != '\0' || port < 0 || port > 65535) {
          std::fprintf(stderr, "%s: not a port number\n", arg.c_str());
          return 2;
        }
        ports[f] = static_cast<int>(port);
        known = true;
      }
    }
    if (arg.rfind("--customer=", 0) == 0) {
      std::string id, email;
      if (!SplitCustomer(arg.substr(11), &id, &email)) {
        std::fprintf(stderr, "%s: expected --customer=ID:EMAIL\n", arg.c_str());
        return 2;
      }
      customers.push_back(arg.substr(11));
      known = true;
    }
    if (!known) {
      std::fprintf(stderr, "unknown option '%s' (try --help)\n", arg.c_str());
      return 2;
    }
  }
  if (customers.empty()) customers.push_back("7001:ada@example.com");

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::vector<RunningFake> running;
  for (size_t f = 0; f < Fakes().size(); ++f) {
    RunningFake fake;
    if (!Fakes()[f].start(ports[f], customers, &fake)) {
      for (auto& r : running) r.stop();
      return 1;
    }
    running.push_back(std::move(fake));
  }
  while (!g_stop) pause();
  for (auto& r : running) r.stop();
  return 0;
}
