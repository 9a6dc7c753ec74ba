import Foundation
import Testing

@testable import FleetAWS

@Suite("Firmware signing")
struct FirmwareSigningTests {
    @Test("signatures verify with python cryptography, and python's verify with ours")
    func crossCheck() async throws {
        let keys = try FirmwareSigning.generateKeyPair()
        let directory = try TemporaryFile.makeDirectory()
        let firmware = directory + "/fw.bin"
        FileManager.default.createFile(atPath: firmware, contents: Data.pseudoRandom(count: 2_500_000, seed: 11))
        let privatePath = directory + "/key.pem"
        FileManager.default.createFile(atPath: privatePath, contents: keys.privateKeyPEM)
        let signature = try FirmwareSigning.sign(filePath: firmware, privateKeyPEMPath: privatePath)
        #expect(try FirmwareSigning.verify(filePath: firmware, signature: signature, publicKeyPEM: keys.publicKeyPEM))
        #expect(try FirmwareSigning.publicKeyPEM(ofPrivateKeyPEM: keys.privateKeyPEM) == keys.publicKeyPEM)

        let script = """
        import base64, sys
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        directory, signature = sys.argv[1], base64.b64decode(sys.argv[2])
        data = open(directory + "/fw.bin", "rb").read()
        public = serialization.load_pem_public_key(open(directory + "/key.pub", "rb").read())
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        own = ec.generate_private_key(ec.SECP256R1())
        open(directory + "/py.pub", "wb").write(own.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        print(base64.b64encode(own.sign(data, ec.ECDSA(hashes.SHA256()))).decode())
        p384 = ec.generate_private_key(ec.SECP384R1())
        open(directory + "/p384.pem", "wb").write(p384.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
        """
        FileManager.default.createFile(atPath: directory + "/key.pub", contents: keys.publicKeyPEM)
        let output = try await TestProcess.run("/usr/bin/env", ["python3", "-c", script, directory,
                                                                signature.base64EncodedString()])
        #expect(output.status == 0, "python rejected our signature: \(output.stderrText)")
        let pythonSignature = try #require(Data(base64Encoded: output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let pythonPublic = try #require(FileManager.default.contents(atPath: directory + "/py.pub"))
        #expect(try FirmwareSigning.verify(filePath: firmware, signature: pythonSignature, publicKeyPEM: pythonPublic))
        #expect(try !FirmwareSigning.verify(filePath: firmware, signature: pythonSignature, publicKeyPEM: keys.publicKeyPEM))
        #expect(throws: FirmwareSigningError.self) {
            _ = try FirmwareSigning.sign(filePath: firmware, privateKeyPEMPath: directory + "/p384.pem")
        }
        #expect(throws: FirmwareSigningError.self) {
            _ = try FirmwareSigning.sign(filePath: firmware, privateKeyPEMPath: directory + "/missing.pem")
        }
    }
}
