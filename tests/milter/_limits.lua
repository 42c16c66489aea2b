-- _limits.lua: what the rate-key scripts share: session macros and a
-- loop that sends messages until the expected refusal.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

local limits = {}

-- The macros of an authenticated session on listener as login from
-- client (nil: no login).
function limits.macros(listener, login, client)
	local m = { ["{daemon_name}"] = listener, ["{tls_version}"] = "TLSv1.3",
		["{client_addr}"] = client or "192.0.2.1" }
	if login ~= nil then
		m["{auth_authen}"] = login
		m["{auth_type}"] = "PLAIN"
	end
	return m
end

-- n recipient addresses
function limits.rcpts(n)
	local t = {}
	for i = 1, n do
		t[i] = "<r" .. i .. "@example.net>"
	end
	return t
end

-- The log line of the key's trip must be there exactly once.
function limits.tripped_once(rule, key)
	local line = "rate limit tripped: listener=%S+ rule=" .. rule .. " key=" ..
		key:gsub("%p", "%%%0") .. " "
	lib.wait_log(line)
	local _, n = lib.milter_log():gsub(line, "")
	lib.expect("one trip line for " .. key, n, 1)
end

-- A *_recipients key of limit 5 (rate_X_recipients = 5/1h): 2 + 3
-- recipients fit, one more does not (nor is it counted: 0 + ... later);
-- a message of 6 can never fit and is refused for good (550 5.7.1);
-- macros_of(n) gives the session macros of the n-th sender of the
-- counted subject, other the macros of another subject, from(n) its
-- envelope sender.
function limits.recipients_case(rule, macros_of, other, from)
	lib.expect_message(rule .. ": 2 recipients", "eom:continue", nil, macros_of(1),
		from(1), limits.rcpts(2))
	lib.expect_message(rule .. ": 3 more", "eom:continue", nil, macros_of(2), from(2),
		limits.rcpts(3))
	lib.expect_message(rule .. ": 1 more", "eom:reply", rule .. ": 450 4.7.1",
		macros_of(3), from(3), limits.rcpts(1))
	lib.expect_message(rule .. ": another subject", "eom:continue", nil, other, from(4),
		limits.rcpts(5))
	lib.expect_message(rule .. ": 6 at once", "eom:reply", rule .. ": 550 5.7.1",
		other, from(4), limits.rcpts(6))
end

return limits
