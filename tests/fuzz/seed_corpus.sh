#!/usr/bin/env bash
# Usage: tests/fuzz/seed_corpus.sh [OUT_DIR]
#
# Writes the fuzz targets' seed corpus, OUT_DIR/<target>/ (default tests/fuzz/corpus/), from the
# platform fixtures in tests/data and the configs in config/, in each target's input format
# (see the targets' opening comments). The committed corpus is this script's output plus inputs
# the fuzzers found that are worth replaying on every run (crash-*: once crashed a target, now
# fixed); rerun it after adding a fixture.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$root/tests/fuzz/corpus}
data=$root/tests/data

mkdir -p "$out"/{money,config,shopify_verifier,woocommerce_verifier,shopify_normaliser,woocommerce_normaliser}

# --- money: a mode byte (exponent 0..4, or 0x80 + a currency code), then the text. ---
n=0
money_seed() {  # exponent-byte (octal escape) text
  n=$((n + 1))
  printf "$1%s" "$2" >"$out/money/seed-$n"
}
for amount in 19.99 0 0.00 -5.00 1000 12.345 10.000 0.1 99999999999999999999.99 \
  92233720368547758.07 -92233720368547758.08 9223372036854775807 12,50 NaN 1e3 " 5" "" +5 \
  5. .5 - --1 0x10 1.2.3; do
  money_seed '\002' "$amount"
done
money_seed '\000' 1500
money_seed '\003' 1.234
money_seed '\004' 0.0001
# Every money string in the fixtures.
while IFS= read -r amount; do money_seed '\002' "$amount"; done < <(
  grep -ohE '"(amount|total|subtotal|price|total_tax|subtotal_tax|discount_total)": *"[^"]*"' \
    "$data"/*/*.json | sed -E 's/.*: *"([^"]*)"/\1/' | sort -u)
for seed in 'USD19.99' 'JPY1500' 'KWD1.234' 'CLF0.0001' 'usd1.00' 'XXX1'; do
  n=$((n + 1))
  printf '\200%s' "$seed" >"$out/money/seed-$n"
done

# --- config: the example config and small variants. ---
cp "$root/config/example.json" "$out/config/example.json"
cat >"$out/config/minimal.json" <<'JSON'
{"admin":{"token":"0123456789abcdef0123"},"shops":[{"id":"s","platform":"shopify","domain":"s.myshopify.com","webhook_secret":"secret-123"}],"program":{"currency":"USD","earn":[{"type":"spend","points":1,"per":"1.00"}]}}
JSON
cat >"$out/config/woocommerce.json" <<'JSON'
{"server":{"listen":"127.0.0.1:0","max_body_bytes":65536,"threads":32},"storage":{"sqlite":{"path":"x.db"}},"logging":{"level":"debug","format":"json"},"admin":{"token":"0123456789abcdef0123"},"shops":[{"id":"w","platform":"woocommerce","domain":"shop.example.com","webhook_secret":"secret-123","previous_webhook_secret":"secret-456","earn_on_status":["completed"],"api":{"base_url":"http://127.0.0.1:1","consumer_key":"ck_x","consumer_secret":"cs_x"}}],"program":{"currency":"EUR","earn":[{"type":"spend","points":2,"per":"1.00","rounding":"nearest","minimum_order":"10.00","max_points_per_order":500,"exclude_skus":["GIFT"]},{"type":"first_order","points":100},{"type":"action","action":"review","points":50,"limit":{"per":"day","max":2}}]}}
JSON

# --- webhook verifiers: headers, an empty line, the body (tests/fuzz/fuzz_message.h). ---
shopify_message() {  # name signature topic body-file
  {
    printf 'X-Shopify-Topic: %s\nX-Shopify-Shop-Domain: fuzz-shop.myshopify.com\n' "$3"
    printf 'X-Shopify-Hmac-Sha256: %s\nX-Shopify-Event-Id: evt-1\n' "$2"
    printf 'X-Shopify-Webhook-Id: wh-1\nX-Shopify-API-Version: 2025-10\n\n'
    cat "$4"
  } >"$out/shopify_verifier/$1"
}
for f in "$data"/shopify/order_*.json; do
  shopify_message "$(basename "$f" .json)" @sign orders/paid "$f"
done
shopify_message refund_create @sign refunds/create "$data/shopify/refund_create.json"
shopify_message customer_previous_secret @previous customers/create "$data/shopify/customer.json"
shopify_message customer_bad_signature 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=' \
  customers/create "$data/shopify/customer.json"

woo_message() {  # name signature topic body-file
  {
    printf 'X-WC-Webhook-Source: https://shop.example.com/\nX-WC-Webhook-Topic: %s\n' "$3"
    printf 'X-WC-Webhook-Resource: order\nX-WC-Webhook-Event: updated\n'
    printf 'X-WC-Webhook-Signature: %s\nX-WC-Webhook-ID: 7\n' "$2"
    printf 'X-WC-Webhook-Delivery-ID: 4a1b2c3d4e5f60718293a4b5c6d7e8f9\n\n'
    cat "$4"
  } >"$out/woocommerce_verifier/$1"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"id":731}' >"$tmp/deleted.json"
for f in "$data"/woocommerce/*.json; do
  woo_message "$(basename "$f" .json)" @sign order.updated "$f"
done
woo_message deleted @previous order.deleted "$tmp/deleted.json"
woo_message deleted_bad_signature 'j3VEZ4tF+rCZA3qaPmef9jiuaKWlDEpyTy/6goPnB9s=' order.deleted \
  "$tmp/deleted.json"
printf '\nwebhook_id=42' >"$out/woocommerce_verifier/ping"

# --- normalisers: the topic, a newline, the body. ---
normaliser_seed() {  # target name topic body-file
  { printf '%s\n' "$3"; cat "$4"; } >"$out/$1_normaliser/$2"
}
for f in "$data"/shopify/order_*.json; do
  normaliser_seed shopify "$(basename "$f" .json)" orders/paid "$f"
done
normaliser_seed shopify order_guest_cancelled orders/cancelled "$data/shopify/order_guest.json"
normaliser_seed shopify order_refund_updated orders/updated "$data/shopify/order_refund.json"
normaliser_seed shopify refund_create refunds/create "$data/shopify/refund_create.json"
normaliser_seed shopify customer customers/update "$data/shopify/customer.json"
for f in "$data"/woocommerce/*.json; do
  normaliser_seed woocommerce "$(basename "$f" .json)" order.updated "$f"
  normaliser_seed woocommerce "$(basename "$f" .json)_created" order.created "$f"
done
normaliser_seed woocommerce deleted order.deleted "$tmp/deleted.json"
cat >"$tmp/customer.json" <<'JSON'
{"id":25,"date_created":"2026-11-20T09:00:00","date_created_gmt":"2026-11-20T09:00:00","date_modified":"2026-11-24T12:00:00","date_modified_gmt":"2026-11-24T12:00:00","email":"Zoe.Friend+shop@Example.com","first_name":"Zo\u00eb","last_name":"Friend","role":"customer","username":"zoe","billing":{"first_name":"Zo\u00eb","last_name":"Friend","email":"zoe@example.com","phone":"+33 1 23 45 67 89"},"shipping":{"first_name":"","last_name":""},"is_paying_customer":true,"avatar_url":"https:\/\/secure.gravatar.com\/avatar\/x","meta_data":[]}
JSON
normaliser_seed woocommerce customer customer.updated "$tmp/customer.json"

for d in "$out"/*/; do echo "seed corpus: $(ls "$d" | wc -l) file(s) in $d"; done
