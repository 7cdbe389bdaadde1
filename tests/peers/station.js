// An independent OPC-UA dam station written with node-opcua, for interoperability tests.
// Usage: node station.js PORT PKI_DIR  — prints "ready" once it accepts connections.
// Exposes ns=1;s=Level (Double, rising 0.01 m every 100 ms, historized), ns=1;s=Mode (String)
// and ns=1;s=DoorOpen (Boolean); accepts None and Basic256Sha256 SignAndEncrypt.
const path = require("path");
const opcua = require("node-opcua");

async function main() {
  const port = parseInt(process.argv[2], 10);
  const pki = process.argv[3];
  const certificateManager = new opcua.OPCUACertificateManager({
    rootFolder: path.join(pki, "server"),
    automaticallyAcceptUnknownCertificate: true,
  });
  await certificateManager.initialize();
  const server = new opcua.OPCUAServer({
    port,
    hostname: "127.0.0.1", // node-opcua advertises the host name otherwise
    alternateHostname: ["127.0.0.1"],
    resourcePath: "/station",
    serverCertificateManager: certificateManager,
    securityPolicies: [opcua.SecurityPolicy.None, opcua.SecurityPolicy.Basic256Sha256],
    securityModes: [opcua.MessageSecurityMode.None, opcua.MessageSecurityMode.SignAndEncrypt],
    buildInfo: { productName: "ecreteur-node-station", buildNumber: "1" },
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace;
  const namespace = addressSpace.getOwnNamespace();
  const dam = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Dam" });
  let level = 3.0;
  const levelNode = namespace.addVariable({
    componentOf: dam,
    nodeId: "s=Level",
    browseName: "Level",
    dataType: "Double",
    value: { dataType: opcua.DataType.Double, value: level },
  });
  addressSpace.installHistoricalDataNode(levelNode, { maxOnlineValues: 100000 });
  namespace.addVariable({
    componentOf: dam,
    nodeId: "s=Mode",
    browseName: "Mode",
    dataType: "String",
    value: { dataType: opcua.DataType.String, value: "AUTO" },
  });
  namespace.addVariable({
    componentOf: dam,
    nodeId: "s=DoorOpen",
    browseName: "DoorOpen",
    dataType: "Boolean",
    value: { dataType: opcua.DataType.Boolean, value: true },
  });
  setInterval(() => {
    level = Math.round((level + 0.01) * 100) / 100;
    levelNode.setValueFromSource({ dataType: opcua.DataType.Double, value: level }, opcua.StatusCodes.Good, new Date());
  }, 100);
  await server.start();
  console.log("ready " + server.getEndpointUrl());
  process.on("SIGTERM", async () => {
    await server.shutdown(0);
    process.exit(0);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
