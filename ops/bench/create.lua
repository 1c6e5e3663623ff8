-- POST /api/v1/applications with a valid tourism application (the same traveller each time:
-- a second open application for one document is answered 409 unless confirmed, so each
-- request confirms and takes a new application).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"kind":"border_tourism","traveller":{"name_zh":"张伟","name_latin":"ZHANG WEI",' ..
  '"nationality":"CHN","sex":"M","birth_date":"1990-03-07","id_type":"cn_resident_id",' ..
  '"id_number":"450681199003071230","phone":"+8613800000000"},"confirm_duplicate":true}'
function request()
  return wrk.format(nil, "/api/v1/applications")
end
