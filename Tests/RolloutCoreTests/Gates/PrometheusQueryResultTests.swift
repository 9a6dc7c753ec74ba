import Foundation
import Testing
@testable import RolloutCore

@Suite struct PrometheusQueryResultTests {
    func value(_ json: String, reduce: SeriesReduction? = nil) -> Result<Double, MetricReadError> {
        PrometheusQueryResult.value(of: PrometheusQueryResult.decode(Data(json.utf8)), reduce: reduce)
    }

    @Test("one series or a scalar is the value; none is no data; several need reduce; NaN is an error")
    func shapes() throws {
        let one = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"v":"2"},"value":[1.5,"0.25"]}]}}"#
        #expect(try value(one).get() == 0.25)
        #expect(try value(#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"3"]}}"#).get() == 3)
        let none = #"{"status":"success","data":{"resultType":"vector","result":[]}}"#
        #expect(value(none) == .failure(MetricReadError(message: "no data: the query returned no series", noData: true)))
        let two = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","hw":"a"},"value":[1,"1"]},{"metric":{"hw":"b"},"value":[1,"4"]}]}}"#
        #expect(value(two) == .failure(MetricReadError(message: "the query returned 2 series (up{hw=\"a\"}, {hw=\"b\"}); "
            + "aggregate them in PromQL or set `reduce` (max, min, avg, sum)")))
        #expect(try value(two, reduce: .max).get() == 4)
        #expect(try value(two, reduce: .avg).get() == 2.5)
        #expect(try value(two, reduce: .sum).get() == 5)
        let nan = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#
        #expect((try? value(nan).get()) == nil)
        let matrix = #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#
        #expect(value(matrix) == .failure(MetricReadError(
            message: "the query gives a matrix, not an instant vector or scalar (a gate needs a number)")))
        let error = #"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#
        #expect(value(error) == .failure(MetricReadError(message: "Prometheus bad_data: parse error at char 5")))
        #expect(value("<html>") == .failure(MetricReadError(message: "the answer is not Prometheus JSON")))
    }
}
