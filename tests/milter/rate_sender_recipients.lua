-- rate_sender_recipients = 5/1h: per envelope sender, whatever the client.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local limits = require("_limits")

local function mx(n)
	return { ["{daemon_name}"] = "mx", ["{client_addr}"] = "198.51.100." .. n }
end
limits.recipients_case("rate_sender_recipients", mx, mx(9),
	function(n) return n < 4 and "<bulk@remote.test>" or "<other@remote.test>" end)
limits.tripped_once("rate_sender_recipients", "mx/sender_rcpt/1h/bulk@remote.test")
