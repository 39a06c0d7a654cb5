import { IsObject, IsString, Matches, MaxLength } from 'class-validator';
import { KAFKA_CLUSTER_NAME, KAFKA_CLUSTER_NAME_RULE } from '../kafka-cluster.naming';

/** `POST /kafka-clusters`, Restate's `CreateKafkaClusterRequest`. */
export class CreateKafkaClusterDto {
  @IsString({ message: 'name must be a string' })
  @MaxLength(255, { message: 'name must be at most 255 characters' })
  @Matches(KAFKA_CLUSTER_NAME, { message: `name ${KAFKA_CLUSTER_NAME_RULE}` })
  name: string;

  /** librdkafka properties; values are checked by the option translator, which names each bad key. */
  @IsObject({ message: 'properties must be an object of librdkafka properties (string values)' })
  properties: Record<string, string>;
}
