-- rate_sender = 2/1h: the sender counts whatever the client and the case;
-- the null sender is a sender of its own.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local function from(client)
	return { ["{daemon_name}"] = "mx", ["{client_addr}"] = client }
end
lib.expect_message("1", "eom:continue", nil, from("192.0.2.1"), "<News@Bulk.test>")
lib.expect_message("2", "eom:continue", nil, from("192.0.2.2"), "<news@bulk.test>")
lib.expect_message("3", "eom:reply", "rate_sender: 450 4.7.1", from("192.0.2.3"), "<NEWS@bulk.TEST>")
lib.expect_message("other sender", "eom:continue", nil, from("192.0.2.3"), "<info@bulk.test>")
lib.expect_message("null sender", "eom:continue", nil, from("192.0.2.3"), "<>")
limits.tripped_once("rate_sender", "mx/sender/1h/news@bulk.test")
