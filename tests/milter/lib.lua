-- lib.lua: helpers shared by the miltertest scripts of mailpolicy-milter.
-- The runner (make miltertest-milter) starts the milter with policy.conf
-- and passes its socket in MILTER_SOCKET.  miltertest prints nothing for
-- a Lua error(): fail() prints the reason first.

local lib = {}

function lib.fail(msg)
	print("FAIL: " .. msg)
	error(msg)
end

-- A negotiated connection with the MAIL-stage macros set.
function lib.session(macros)
	local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
	if conn == nil then
		lib.fail("cannot connect to " .. tostring(os.getenv("MILTER_SOCKET")))
	end
	local args = {}
	for k, v in pairs(macros) do
		table.insert(args, k)
		table.insert(args, v)
	end
	if #args > 0 then
		mt.macro(conn, SMFIC_MAIL, (table.unpack or unpack)(args))
	end
	return conn
end

-- MAIL FROM, then the reply: "continue" or the SMTP reply text.
function lib.mail(conn, from)
	if mt.mailfrom(conn, from) ~= nil then
		lib.fail("mailfrom failed")
	end
	local r = mt.getreply(conn)
	if r == SMFIR_CONTINUE then
		return "continue"
	elseif r == SMFIR_REPLYCODE then
		return "reply"
	elseif r == SMFIR_REJECT then
		return "reject"
	elseif r == SMFIR_TEMPFAIL then
		return "tempfail"
	end
	return "other:" .. tostring(r)
end

-- MAIL FROM on conn: want is "continue", or the refusal as the milter
-- logs it ("sender: 553 5.7.1"): then the answer must be a reply and the
-- milter must have logged one more refusal by that rule with those codes
-- (miltertest cannot read a reply's text; a refusal by another rule, or
-- a tempfail where a reject was due, is another line).
function lib.expect_mail(what, conn, from, want)
	if want == "continue" then
		lib.expect(what, lib.mail(conn, from), "continue")
		return
	end
	local before = lib.count_log("rule=" .. want)
	lib.expect(what, lib.mail(conn, from), "reply")
	lib.expect(what .. ": logged rule=" .. want, lib.count_log("rule=" .. want) - before, 1)
end

function lib.expect(what, got, want)
	if got ~= want then
		lib.fail(what .. ": got " .. tostring(got) .. ", want " .. tostring(want))
	end
	print("ok: " .. what)
end

-- The reply constants by name, for messages.
local replies = {
	[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept",
	[SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
	[SMFIR_REPLYCODE] = "reply", [SMFIR_DISCARD] = "discard",
}

local function reply_name(r)
	return replies[r] or ("other:" .. tostring(r))
end

-- A session that negotiates as Postfix does but offers no "no reply"
-- step: miltertest 2.11 stops a script when a milter takes one
-- (SMFIP_NR_*), so here every stage the milter takes is answered.
function lib.full_session(macros)
	local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
	if conn == nil then
		lib.fail("cannot connect to " .. tostring(os.getenv("MILTER_SOCKET")))
	end
	local steps = SMFIP_NOCONNECT + SMFIP_NOHELO + SMFIP_NOMAIL +
		SMFIP_NORCPT + SMFIP_NOBODY + SMFIP_NOHDRS + SMFIP_NOEOH +
		SMFIP_NOUNKNOWN + SMFIP_NODATA + SMFIP_SKIP + SMFIP_RCPT_REJ
	-- actions: miltertest's defaults (all; an explicit list here makes
	-- miltertest 2.11 drop the MAIL macros)
	local err = mt.negotiate(conn, 6, nil, steps)
	if err ~= nil then
		lib.fail("negotiate: " .. tostring(err))
	end
	local args = {}
	for k, v in pairs(macros) do
		table.insert(args, k)
		table.insert(args, v)
	end
	if #args > 0 then
		mt.macro(conn, SMFIC_MAIL, (table.unpack or unpack)(args))
	end
	return conn
end

-- One message in a session of its own: MAIL, each RCPT, DATA, the
-- headers ({ {name, value}, ... }), end of message.  Returns the stage
-- and the milter's answer ("eom:continue", "eom:reply", "mail:reply",
-- "rcpt:reply", ...) and the connection, still open (mt.eom_check on
-- it; the caller disconnects).
function lib.message(macros, from, rcpts, headers)
	local c = lib.full_session(macros)
	if mt.mailfrom(c, from) ~= nil then
		lib.fail("mailfrom failed")
	end
	local r = mt.getreply(c)
	if r ~= SMFIR_CONTINUE then
		return "mail:" .. reply_name(r), c
	end
	-- (no RCPT unless given: a milter that declines the stage makes
	-- mt.rcptto raise)
	for _, rcpt in ipairs(rcpts or {}) do
		if mt.rcptto(c, rcpt) ~= nil then
			lib.fail("rcptto failed")
		end
		r = mt.getreply(c)
		if r ~= SMFIR_CONTINUE then
			return "rcpt:" .. reply_name(r), c
		end
	end
	if mt.data(c) ~= nil then
		lib.fail("data failed")
	end
	r = mt.getreply(c)
	if r ~= SMFIR_CONTINUE then
		return "data:" .. reply_name(r), c
	end
	for _, h in ipairs(headers or {}) do
		if mt.header(c, h[1], h[2]) ~= nil then
			lib.fail("header failed")
		end
		r = mt.getreply(c)
		if r ~= SMFIR_CONTINUE then
			return "header:" .. reply_name(r), c
		end
	end
	if mt.eom(c) ~= nil then
		lib.fail("eom failed")
	end
	return "eom:" .. reply_name(mt.getreply(c)), c
end

-- lib.message, then: the answer must be want; with refusal ("rate_login:
-- 450 4.7.1"), the milter must have logged one more refusal by that rule
-- with those codes (miltertest can only compare a reply's whole text).
-- Disconnects.
function lib.expect_message(what, want, refusal, macros, from, rcpts, headers)
	local before = refusal and lib.count_log("rule=" .. refusal) or 0
	local got, c = lib.message(macros, from, rcpts, headers)
	lib.expect(what, got, want)
	if refusal ~= nil then
		lib.expect(what .. ": logged rule=" .. refusal,
			lib.count_log("rule=" .. refusal) - before, 1)
	end
	mt.disconnect(c)
end

local function read_log()
	local f = io.open(os.getenv("MILTER_LOG"), "r")
	if f == nil then
		lib.fail("cannot read " .. tostring(os.getenv("MILTER_LOG")))
	end
	local text = f:read("*a")
	f:close()
	return text
end

-- The log is appended to by every script: this one's part starts here.
local log_start = #read_log()

-- What the milter logged since this script began.
function lib.milter_log()
	return read_log():sub(log_start + 1)
end

-- How many times text (plain, not a pattern) is in the log.
function lib.count_log(text)
	local log, n, at = lib.milter_log(), 0, 1
	while true do
		local i = log:find(text, at, true)
		if i == nil then
			return n
		end
		n = n + 1
		at = i + #text
	end
end

-- Waits (up to 10 s) until the milter's log holds a line matching the
-- Lua pattern; returns the match.
function lib.wait_log(pattern)
	for _ = 1, 200 do
		local m = lib.milter_log():match(pattern)
		if m ~= nil then
			return m
		end
		mt.sleep(0.05)
	end
	lib.fail("the milter never logged " .. pattern)
end

-- Writes a file next to the policy file; returns its path.
function lib.write_beside_policy(name, text)
	local dir = os.getenv("MILTER_POLICY"):match("^(.*)/[^/]*$")
	local path = dir .. "/" .. name
	local f = io.open(path, "w")
	if f == nil then
		lib.fail("cannot write " .. path)
	end
	f:write(text)
	f:close()
	return path
end

-- Changes the running milter's policy: edit(text) returns the new text;
-- then SIGUSR1, and waits for "policy reloaded ... (generation N)".
function lib.reload(edit)
	local path = os.getenv("MILTER_POLICY")
	local f = io.open(path, "r")
	local old = f:read("*a")
	f:close()
	local before = select(2, lib.milter_log():gsub("policy reloaded: ", ""))
	f = io.open(path, "w")
	f:write((edit(old)))
	f:close()
	os.execute("kill -USR1 " .. os.getenv("MILTER_PID"))
	for _ = 1, 200 do
		local log = lib.milter_log()
		local failed = log:match("policy reload failed: [^\n]*")
		if failed ~= nil then
			lib.fail(failed)
		end
		if select(2, log:gsub("policy reloaded: ", "")) > before then
			return
		end
		mt.sleep(0.05)
	end
	lib.fail("the milter did not reload")
end

return lib
