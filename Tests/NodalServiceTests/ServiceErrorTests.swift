import NodalJSON
import NodalService
import Testing

@Suite struct ServiceErrorTests {
    @Test func bodyCarriesStatusCodeAndField() {
        let error = ServiceError.invalidField("input[0]", "must be an object")
        #expect(error.status == 400)
        #expect(error.json == ["code": 400, "message": "must be an object", "error": "INVALID_FIELD", "field": "input[0]"])
        #expect(error.description == "INVALID_FIELD (input[0]): must be an object")
    }
}
