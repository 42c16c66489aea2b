-- rate_client_ip_recipients = 5/1h: per client, whatever the sender.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local limits = require("_limits")

local function mx(client)
	return { ["{daemon_name}"] = "mx", ["{client_addr}"] = client }
end
limits.recipients_case("rate_client_ip_recipients",
	function() return mx("198.51.100.7") end, mx("198.51.100.8"),
	function(n) return "<s" .. n .. "@remote.test>" end)
limits.tripped_once("rate_client_ip_recipients", "mx/ip_rcpt/1h/198.51.100.7")
