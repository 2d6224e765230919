import yaml, subprocess, re, json, copy, sys
L = 'job="chatbot",deployment_environment_name="test"'
R = 'http_route="/chat/{session_id}",http_request_method="POST"'
def http(per_min_by_le, per_min_5xx=0, minutes=60, extra=None):
    """per_min_by_le: requests per minute in each bucket range: {0.1: a, 0.25: b, 0.5: c}"""
    series = []
    total = sum(per_min_by_le.values())
    cum = 0
    for le in ("0.1", "0.25", "0.5", "+Inf"):
        cum += per_min_by_le.get(float(le) if le != "+Inf" else None, 0) if le != "+Inf" else 0
        series.append({"series": f'http_server_request_duration_seconds_bucket{{{L},{R},http_status_class="2xx",le="{le}"}}',
                       "values": f"0+{cum if le != '+Inf' else total}x{minutes}"})
    ok = total - per_min_5xx
    series.append({"series": f'http_server_request_duration_seconds_count{{{L},{R},http_status_class="2xx"}}', "values": f"0+{ok}x{minutes}"})
    if per_min_5xx:
        series.append({"series": f'http_server_request_duration_seconds_count{{{L},{R},http_status_class="5xx",http_response_status_code="500"}}', "values": f"0+{per_min_5xx}x{minutes}"})
    return series
GL = 'gen_ai_request_model="anthropic.claude-3-haiku-20240307-v1:0",gen_ai_operation_name="chat"'
def t(name, series, alerts, interval="1m"):
    return {"name": name, "interval": interval, "input_series": series, "alert_rule_test": alerts}
def fires(alert, at, **labels):
    return {"eval_time": at, "alertname": alert, "exp_alerts": [{"exp_labels": labels}]}
def silent(alert, at):
    return {"eval_time": at, "alertname": alert, "exp_alerts": []}
J = dict(job="chatbot", deployment_environment_name="test")
tests = [
  t("slow requests: p95 above 200 ms fires the p95 alert and the fast latency burn",
    http({0.5: 60}), [fires("ChatbotHighLatencyP95", "20m", severity="warning", **J),
                      fires("ChatbotLatencySLOBudgetBurnFast", "20m", severity="critical", slo="latency", **J),
                      silent("ChatbotHighLatencyP95", "5m")]),
  t("fast requests: latency alerts stay silent",
    http({0.1: 60}), [silent("ChatbotHighLatencyP95", "50m"), silent("ChatbotLatencySLOBudgetBurnFast", "50m"),
                      silent("ChatbotLatencySLOBudgetBurnSlow", "50m")]),
  t("p95 of 175 ms (interpolated) stays under 200 ms and 3.3 % slow requests are within the latency budget: silent",
    http({0.1: 90, 0.25: 10}), [silent("ChatbotHighLatencyP95", "50m"), silent("ChatbotLatencySLOBudgetBurnSlow", "50m"),
                                silent("ChatbotLatencySLOBudgetBurnFast", "50m")]),
  t("20 % of requests slower than 200 ms: slow latency burn fires, fast does not",
    http({0.1: 80, 0.5: 20}), [fires("ChatbotLatencySLOBudgetBurnSlow", "40m", severity="warning", slo="latency", **J),
                               silent("ChatbotLatencySLOBudgetBurnFast", "40m")]),
  t("2 % server errors: error-rate alert and slow availability burn fire, fast burn does not",
    http({0.1: 100}, per_min_5xx=2), [fires("ChatbotHighErrorRate", "20m", severity="critical", **J),
                                      fires("ChatbotAvailabilitySLOBudgetBurnSlow", "40m", severity="warning", slo="availability", **J),
                                      silent("ChatbotAvailabilitySLOBudgetBurnFast", "40m")]),
  t("10 % server errors: fast availability burn fires",
    http({0.1: 100}, per_min_5xx=10), [fires("ChatbotAvailabilitySLOBudgetBurnFast", "10m", severity="critical", slo="availability", **J)]),
  t("0.4 % server errors: error and availability alerts stay silent",
    http({0.1: 1000}, per_min_5xx=4), [silent("ChatbotHighErrorRate", "50m"), silent("ChatbotAvailabilitySLOBudgetBurnFast", "50m"),
                                       silent("ChatbotAvailabilitySLOBudgetBurnSlow", "50m")]),
  t("Bedrock timeouts fire the timeout alert",
    [{"series": f'gen_ai_client_operation_duration_seconds_count{{{L},{GL}}}', "values": "0+100x30"},
     {"series": f'gen_ai_client_operation_duration_seconds_count{{{L},{GL},error_type="ModelTimeoutException"}}', "values": "0+1x30"}],
    [fires("ChatbotBedrockTimeouts", "10m", severity="warning", gen_ai_request_model="anthropic.claude-3-haiku-20240307-v1:0", gen_ai_operation_name="chat", **J)]),
  t("other Bedrock errors are not timeouts",
    [{"series": f'gen_ai_client_operation_duration_seconds_count{{{L},{GL}}}', "values": "0+100x30"},
     {"series": f'gen_ai_client_operation_duration_seconds_count{{{L},{GL},error_type="ValidationException"}}', "values": "0+5x30"},
     {"series": f'gen_ai_client_operation_duration_seconds_count{{{L},{GL},error_type="ModelTimeoutException"}}', "values": "0x30"}],
    [silent("ChatbotBedrockTimeouts", "20m")]),
  t("10 % of Bedrock calls throttled fires the throttling alert",
    [{"series": f'gen_ai_client_operation_duration_seconds_count{{{L},{GL}}}', "values": "0+90x30"},
     {"series": f'gen_ai_client_operation_duration_seconds_count{{{L},{GL},error_type="ThrottlingException"}}', "values": "0+10x30"},
     {"series": f'gen_ai_client_throttles_total{{{L},{GL}}}', "values": "0+10x30"}],
    [fires("ChatbotBedrockThrottling", "15m", severity="warning", gen_ai_request_model="anthropic.claude-3-haiku-20240307-v1:0", **J)]),
  t("1 % of Bedrock calls throttled stays silent",
    [{"series": f'gen_ai_client_operation_duration_seconds_count{{{L},{GL}}}', "values": "0+99x30"},
     {"series": f'gen_ai_client_throttles_total{{{L},{GL}}}', "values": "0+1x30"}],
    [silent("ChatbotBedrockThrottling", "20m")]),
  t("one request a minute fires the low-throughput alert",
    http({0.1: 1}, minutes=40), [fires("ChatbotLowThroughput", "25m", severity="info", **J), silent("ChatbotLowThroughput", "10m")]),
  t("a request a second is not low throughput",
    http({0.1: 60}, minutes=40), [silent("ChatbotLowThroughput", "30m")]),
  t("traffic that stops (counters flat) fires traffic-stopped",
    [{"series": f'http_server_request_duration_seconds_count{{{L},{R},http_status_class="2xx"}}', "values": "0+60x90 5400x60"}],
    [fires("ChatbotTrafficStopped", "2h", severity="critical", **J), silent("ChatbotTrafficStopped", "1h30m")]),
  t("traffic that stops (series gone) fires traffic-stopped",
    [{"series": f'http_server_request_duration_seconds_count{{{L},{R},http_status_class="2xx"}}', "values": "0+60x90"}],
    [fires("ChatbotTrafficStopped", "2h5m", severity="critical", **J)]),
  t("steady traffic does not fire traffic-stopped",
    [{"series": f'http_server_request_duration_seconds_count{{{L},{R},http_status_class="2xx"}}', "values": "0+60x150"}],
    [silent("ChatbotTrafficStopped", "2h30m")]),
]
doc = {"rule_files": ["../rules/chatbot-recording.yml", "../rules/chatbot-alerts.yml", "../rules/chatbot-slo.yml"],
       "evaluation_interval": "1m", "tests": tests}
path = sys.argv[1]
# fill in annotations from what promtool renders
for rnd in range(3):
    with open(path, "w") as f:
        f.write("# promtool unit tests: every alert fires when it should and stays silent when it should not.\n"
                "#   promtool test rules prometheus/tests/chatbot-alerts.test.yml\n"
                "# (run by tests/stack/test_prometheus_rules.py).  Series are 1-minute samples.\n")
        yaml.safe_dump(doc, f, sort_keys=False, width=160)
    r = subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True)
    out = r.stdout + r.stderr
    if r.returncode == 0: print("PASS"); break
    # parse got alerts
    changed = False
    for m in re.finditer(r"alertname: (\w+), time: (\w+), \n\s+exp:(.*?), \n\s+got:(.*?)\n\s*(?=alertname|FAILED|$)", out, re.S):
        name, at, exp, got = m.groups()
        anns = re.findall(r"Annotations:\{(.*?)\}\n", got, re.S)
        for tc in tests:
            for a in tc["alert_rule_test"]:
                if a["alertname"] == name and a["eval_time"] == at and a["exp_alerts"] and anns:
                    kv = dict((k, json.loads(v)) for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*")', anns[0]))
                    if a["exp_alerts"][0].get("exp_annotations") != kv:
                        a["exp_alerts"][0]["exp_annotations"] = kv; changed = True
    if not changed:
        print(out[:6000]); break
