#ifndef MAILPOLICY_RATE_REDIS_SCRIPT_H
#define MAILPOLICY_RATE_REDIS_SCRIPT_H

/* rate-redis-script.h: the Lua script the Redis store runs, one call per
 * check of up to MP_RATE_MAX_ITEMS keys.  It is mp_rate_window_apply()
 * (core/rate.c) line by line, over a hash per key with the fields
 * s (window start), w (window length), p (prev) and c (cur), all in
 * milliseconds or events, written with %.0f so that no digit is lost.
 *
 * Lua 5.1 numbers are doubles.  Every value stays below 2^52
 * (MP_RATE_MAX_EXACT: the store refuses larger limits, costs and
 * windows), so sums and differences are exact; the one product the rule
 * needs, prev * (W - elapsed), may pass 2^52, and muldiv() then divides
 * the exact 104-bit product bit by bit, as muldiv() in rate.c does.
 *
 * KEYS: the keys.  ARGV[1]: now in ms; then per key: limit, window_ms,
 * cost.  Returns { all_fit, then per key: fits, count, retry_ms } with
 * retry_ms -1 for "never" (cost above the limit).  Nothing is written
 * unless every key fits.  Each key expires two windows after its
 * window start, when forgetting it changes no answer. */

#define MP_RATE_REDIS_SCRIPT \
"local TWO52 = 4503599627370496\n" \
"local B = 67108864\n" \
"local now = tonumber(ARGV[1])\n" \
"local function imod(a, b)\n" \
"  local q = math.floor(a / b)\n" \
"  local r = a - q * b\n" \
"  if r < 0 then r = r + b elseif r >= b then r = r - b end\n" \
"  return r\n" \
"end\n" \
"-- floor(a * b / c) and whether a remainder was dropped; a, b, c < 2^52\n" \
"-- and a <= c or b <= c, so the quotient is below 2^52 too\n" \
"local function muldiv(a, b, c)\n" \
"  local p = a * b\n" \
"  if p < TWO52 then\n" \
"    local q = math.floor(p / c)\n" \
"    local r = p - q * c\n" \
"    if r < 0 then q = q - 1; r = r + c elseif r >= c then q = q + 1; r = r - c end\n" \
"    return q, r ~= 0\n" \
"  end\n" \
"  local a0, a1 = imod(a, B), math.floor(a / B)\n" \
"  local b0, b1 = imod(b, B), math.floor(b / B)\n" \
"  local t = {0, 0, 0, 0, 0}\n" \
"  local function put(i, v)\n" \
"    t[i] = t[i] + imod(v, B)\n" \
"    t[i + 1] = t[i + 1] + math.floor(v / B)\n" \
"  end\n" \
"  put(1, a0 * b0); put(2, a0 * b1); put(2, a1 * b0); put(3, a1 * b1)\n" \
"  for i = 1, 4 do\n" \
"    local carry = math.floor(t[i] / B)\n" \
"    t[i] = t[i] - carry * B\n" \
"    t[i + 1] = t[i + 1] + carry\n" \
"  end\n" \
"  local q, r = 0, 0\n" \
"  for i = 4, 1, -1 do\n" \
"    local d = t[i]\n" \
"    for bit = 25, 0, -1 do\n" \
"      local pw = 2 ^ bit\n" \
"      local hi = math.floor(d / pw)\n" \
"      d = d - hi * pw\n" \
"      r = r * 2 + hi\n" \
"      q = q * 2\n" \
"      if r >= c then r = r - c; q = q + 1 end\n" \
"    end\n" \
"  end\n" \
"  return q, r ~= 0\n" \
"end\n" \
"local function muldiv_ceil(a, b, c)\n" \
"  local q, inexact = muldiv(a, b, c)\n" \
"  if inexact then return q + 1 end\n" \
"  return q\n" \
"end\n" \
"local function roll(w, at)\n" \
"  if at < w.s then return w.s end\n" \
"  local start = at - imod(at, w.w)\n" \
"  if start ~= w.s then\n" \
"    if start - w.s == w.w then w.p = w.c else w.p = 0 end\n" \
"    w.c = 0\n" \
"    w.s = start\n" \
"  end\n" \
"  return at\n" \
"end\n" \
"local function estimate(w, at)\n" \
"  return muldiv(w.p, w.w - (at - w.s), w.w) + w.c\n" \
"end\n" \
"local function allowed_at(w, limit)\n" \
"  local W = w.w\n" \
"  if w.c >= limit then\n" \
"    return W + W - muldiv_ceil(limit, W, w.c) + 1\n" \
"  end\n" \
"  return W - muldiv_ceil(limit - w.c, W, w.p) + 1\n" \
"end\n" \
"local function apply(w, limit, W, cost)\n" \
"  local need = cost\n" \
"  if need == 0 then need = 1 end\n" \
"  if w.w == 0 then\n" \
"    w.s = now - imod(now, W); w.w = W; w.p = 0; w.c = 0\n" \
"  elseif w.w ~= W then\n" \
"    local old = {s = w.s, w = w.w, p = w.p, c = w.c}\n" \
"    local carry = estimate(old, roll(old, now))\n" \
"    if W < old.w then carry = muldiv_ceil(carry, W, old.w) end\n" \
"    w.s = now - imod(now, W); w.w = W; w.p = 0; w.c = carry\n" \
"  end\n" \
"  local at = roll(w, now)\n" \
"  local elapsed = at - w.s\n" \
"  local est = estimate(w, at)\n" \
"  if need <= limit and est <= limit - need then\n" \
"    w.c = w.c + cost\n" \
"    return 1, est + cost, 0\n" \
"  end\n" \
"  if need > limit then return 0, est, -1 end\n" \
"  return 0, est, allowed_at(w, limit - need + 1) - elapsed + (at - now)\n" \
"end\n" \
"local states, out, all = {}, {0}, 1\n" \
"for i = 1, #KEYS do\n" \
"  local v = redis.call('HMGET', KEYS[i], 's', 'w', 'p', 'c')\n" \
"  local w = {s = 0, w = 0, p = 0, c = 0}\n" \
"  if v[2] then\n" \
"    w.s = tonumber(v[1]); w.w = tonumber(v[2])\n" \
"    w.p = tonumber(v[3]); w.c = tonumber(v[4])\n" \
"  end\n" \
"  local base = 1 + (i - 1) * 3\n" \
"  local fits, count, retry = apply(w, tonumber(ARGV[base + 1]),\n" \
"    tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]))\n" \
"  if fits == 0 then all = 0 end\n" \
"  states[i] = w\n" \
"  out[#out + 1] = fits; out[#out + 1] = count; out[#out + 1] = retry\n" \
"end\n" \
"out[1] = all\n" \
"if all == 1 then\n" \
"  for i = 1, #KEYS do\n" \
"    local w = states[i]\n" \
"    redis.call('HMSET', KEYS[i], 's', string.format('%.0f', w.s),\n" \
"      'w', string.format('%.0f', w.w), 'p', string.format('%.0f', w.p),\n" \
"      'c', string.format('%.0f', w.c))\n" \
"    local ttl = w.s + 2 * w.w - now\n" \
"    if ttl < 1 then ttl = 1 end\n" \
"    redis.call('PEXPIRE', KEYS[i], string.format('%.0f', ttl))\n" \
"  end\n" \
"else\n" \
"  for i = 1, #KEYS do\n" \
"    local base = 1 + (i - 1) * 3\n" \
"    if out[base + 1] == 1 then\n" \
"      out[base + 2] = out[base + 2] - tonumber(ARGV[base + 3])\n" \
"    end\n" \
"  end\n" \
"end\n" \
"return out\n"

#endif
