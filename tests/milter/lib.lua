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

function lib.expect(what, got, want)
	if got ~= want then
		lib.fail(what .. ": got " .. tostring(got) .. ", want " .. tostring(want))
	end
	print("ok: " .. what)
end

return lib
