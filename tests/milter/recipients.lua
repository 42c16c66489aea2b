-- max_recipients = 2 on mx: the third RCPT gets 452.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

local c = lib.session({ ["{daemon_name}"] = "mx", ["{client_addr}"] = "192.0.2.1" })
lib.expect("mail", lib.mail(c, "<x@remote.test>"), "continue")
for i, want in ipairs({ "continue", "continue", "reply" }) do
	mt.rcptto(c, "<r" .. i .. "@example.com>")
	local r = mt.getreply(c)
	lib.expect("rcpt " .. i, r == SMFIR_CONTINUE and "continue" or
		(r == SMFIR_REPLYCODE and "reply" or tostring(r)), want)
end
mt.disconnect(c)
